"""SAS tokens made by Python uamqp (Debian python3-uamqp), for test/auth/sas-token-uamqp.test.ts.

Reads a JSON object from stdin:
  {"now": <seconds since the epoch, float>, "cases": [{"kind": ..., ...}, ...]}
and prints one JSON list with one result per case. The clock is fixed by replacing time.time, which
uamqp's utils.create_sas_token and SASTokenAuth.from_shared_access_key read.

Kinds:
  create_sas_token   utils.create_sas_token(keyName, key, scope, timedelta(milliseconds=expiryMs))
  from_shared_access_key
                     SASTokenAuth.from_shared_access_key(uri, keyName, key, expiry=expiryMs / 1000)
                     -> {"token", "audience", "hostname"}
  c_create_sas_token c_uamqp.create_sas_token(base64(key), scope, keyName, se): the C function with
                     an absolute expiry, without utils' timedelta handling

Keys arrive base64-encoded ("keyB64") so that any bytes can be passed; from_shared_access_key takes
a str, so there the key is decoded as UTF-8.
"""
import base64
import datetime
import json
import sys
import time

from uamqp import c_uamqp, utils
from uamqp.authentication import SASTokenAuth


def main():
    request = json.load(sys.stdin)
    now = float(request["now"])
    time.time = lambda: now
    results = []
    for case in request["cases"]:
        key = base64.b64decode(case["keyB64"])
        kind = case["kind"]
        if kind == "create_sas_token":
            token = utils.create_sas_token(
                case["keyName"].encode("utf-8"),
                key,
                case["scope"].encode("utf-8"),
                datetime.timedelta(milliseconds=case["expiryMs"]),
            )
            results.append({"token": token.decode("utf-8")})
        elif kind == "from_shared_access_key":
            auth = SASTokenAuth.from_shared_access_key(
                case["uri"], case["keyName"], key.decode("utf-8"), expiry=case["expiryMs"] / 1000
            )
            results.append(
                {
                    "token": auth.token.decode("utf-8"),
                    "audience": auth.audience.decode("utf-8"),
                    "hostname": auth.hostname.decode("utf-8"),
                }
            )
        elif kind == "c_create_sas_token":
            token = c_uamqp.create_sas_token(
                base64.b64encode(key),
                case["scope"].encode("utf-8"),
                case["keyName"].encode("utf-8"),
                case["se"],
            )
            results.append({"token": token.decode("utf-8")})
        else:
            raise ValueError("unknown kind " + kind)
    json.dump(results, sys.stdout)


main()
