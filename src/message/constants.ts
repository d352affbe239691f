/**
 * Message-level constants of uamqp (`uamqp.constants`), same values.
 */

/**
 * The transfer `message-format` of an Azure Event Hubs / Service Bus batch: an envelope message whose
 * body holds one Data section per complete encoded inner message (0x80013700 = 2147563264).
 */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** The default largest encoded size of a {@link BatchMessage} envelope, 1 MiB (uamqp's `MAX_MESSAGE_LENGTH_BYTES`). */
export const MAX_MESSAGE_LENGTH_BYTES = 1048576;

/** The default largest frame, 64 KiB (uamqp's `MAX_FRAME_SIZE_BYTES`; the `maxFrameSize` default). */
export const MAX_FRAME_SIZE_BYTES = 65536;
