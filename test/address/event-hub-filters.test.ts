import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventHubFilters, InvalidAddressError } from "../../src/address/index.js";

function invalidFilter(e: unknown): boolean {
  return e instanceof InvalidAddressError && e.reason === "invalid-filter";
}

describe("EventHubFilters", () => {
  it("offsetAfter quotes the offset", () => {
    assert.equal(EventHubFilters.offsetAfter("@latest"), "amqp.annotation.x-opt-offset > '@latest'");
    assert.equal(
      EventHubFilters.offsetAfter(EventHubFilters.LATEST),
      "amqp.annotation.x-opt-offset > '@latest'",
    );
    assert.equal(
      EventHubFilters.offsetAfter(EventHubFilters.START_OF_STREAM),
      "amqp.annotation.x-opt-offset > '-1'",
    );
    assert.equal(
      EventHubFilters.offsetAfter("4096", { inclusive: true }),
      "amqp.annotation.x-opt-offset >= '4096'",
    );
    assert.equal(EventHubFilters.offsetAfter(12n), "amqp.annotation.x-opt-offset > '12'");
    assert.equal(EventHubFilters.offsetAfter(7, { inclusive: false }), "amqp.annotation.x-opt-offset > '7'");
  });

  it("offsetAfter refuses offsets that would break the expression", () => {
    assert.throws(() => EventHubFilters.offsetAfter("1' OR '1'='1"), invalidFilter);
    assert.throws(() => EventHubFilters.offsetAfter(""), invalidFilter);
    assert.throws(() => EventHubFilters.offsetAfter(1.5), invalidFilter);
  });

  it("sequenceNumberAfter writes the integer", () => {
    assert.equal(EventHubFilters.sequenceNumberAfter(1500), "amqp.annotation.x-opt-sequence-number > 1500");
    assert.equal(
      EventHubFilters.sequenceNumberAfter(9223372036854775807n, { inclusive: true }),
      "amqp.annotation.x-opt-sequence-number >= 9223372036854775807",
    );
    assert.throws(() => EventHubFilters.sequenceNumberAfter(1.5), invalidFilter);
    assert.throws(() => EventHubFilters.sequenceNumberAfter(Number.NaN), invalidFilter);
  });

  it("enqueuedTimeAfter writes epoch milliseconds", () => {
    assert.equal(
      EventHubFilters.enqueuedTimeAfter(1518731960545),
      "amqp.annotation.x-opt-enqueued-time > 1518731960545",
    );
    assert.equal(
      EventHubFilters.enqueuedTimeAfter(new Date(1518731960545), { inclusive: true }),
      "amqp.annotation.x-opt-enqueued-time >= 1518731960545",
    );
    assert.equal(
      EventHubFilters.enqueuedTimeAfter(1518731960545, { legacyAnnotation: true }),
      "amqp.annotation.x-opt-enqueuedtimeutc > 1518731960545",
    );
    assert.throws(() => EventHubFilters.enqueuedTimeAfter(new Date(Number.NaN)), invalidFilter);
    assert.throws(() => EventHubFilters.enqueuedTimeAfter(1.25), invalidFilter);
  });
});
