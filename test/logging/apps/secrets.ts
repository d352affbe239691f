/** The secrets the logging tests' applications use, and look for (in vain) in what they print. */
export const USER = "trace-user";
export const PASSWORD = "Pl41n-SECRET-pw";
/** A token-like application property value (a SAS token's shape). */
export const TOKEN =
  "SharedAccessSignature sr=amqp%3A%2F%2F127.0.0.1%2Forders&sig=SECRETsigQ2hlY2s%3D&se=1900000000&skn=app";
