/**
 * Which side writes its performatives in full: every field of the list, absent ones as explicit
 * nulls, instead of the shortest list (trailing absent fields dropped) that AMQP 1.0 part 1,
 * section 1.4 allows.
 *
 * Some peers index the decoded field list by position and fail ("list index out of range") on a
 * shorter list. Azure's pure-Python AMQP stack (`azure-eventhub` 5.11+, `azure/eventhub/_pyamqp`,
 * Debian `python3-azure`) decodes each frame body into a Python list and reads these indices:
 *
 * | frame           | indices it reads                                                         |
 * | --------------- | ------------------------------------------------------------------------ |
 * | OPEN            | 2 max-frame-size (compared with 512: must not be null), 4 idle-time-out  |
 * | BEGIN           | 0 remote-channel, 1-3 ids and windows, 4 handle-max (compared: not null) |
 * | ATTACH          | 0 name, 1 handle, 2 role, 5 source, 6 target, 9 initial-delivery-count   |
 * |                 | (its receivers detach on null), 10 max-message-size, 11 offered-caps,    |
 * |                 | 13 properties (merged into its own link's: must be a map when it sent    |
 * |                 | some, see `AmqpSession.acceptLink`)                                      |
 * | FLOW            | 0-3 session state, 4 handle, 5 delivery-count, 6 link-credit             |
 * | TRANSFER        | 0, 1, 4, 5, and the payload at index 11: exactly 11 fields               |
 * | DISPOSITION     | 1 first, 2 last, 3 settled, 4 state                                      |
 * | DETACH          | 1 closed, 2 error                                                        |
 * | END, CLOSE      | 0 error (a list0 body fails: it reads the list8 count at a fixed offset) |
 * | error           | 0 condition, 1 description, 2 info (in CLOSE, DETACH and rejected)       |
 * | rejected        | 0 error                                                                  |
 * | SASL-MECHANISMS | 0; SASL-OUTCOME 0 code, and 0-1 when formatting a failure                |
 *
 * With its network trace on (`logging_enable=True`) it also builds a named tuple of *all* the
 * fields of every OPEN, BEGIN, ATTACH, TRANSFER, DISPOSITION, DETACH, END and CLOSE it receives,
 * which needs every field present. Hence the full form: every field of the performative and of
 * the composites nested in it (error, outcomes, termini). It costs a few null bytes per frame.
 */

/**
 * Whether a connection in `role` writes performatives (and SASL frames) in full. The accepting side
 * does, for the peers above. The connecting side keeps the shortest form: the peers known to read
 * by position are clients, and the full TRANSFER measurably slowed our sender on the engine
 * benchmark (bench/README.md, "Performatives in full").
 */
export function writesFullPerformatives(role: "client" | "server"): boolean {
  return role === "server";
}
