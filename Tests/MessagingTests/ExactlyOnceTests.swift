import AftercareAMQP
import AftercareContracts
import AftercareMessaging
import AftercareTestSupport
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// Each test compares what was written to the outbox with what the consumer applied:
/// every event applied exactly once, nothing lost. The suite is serialised because all
/// harnesses bind the same event type on the shared exchange.
@Suite("Outbox → relay → broker → consumer → inbox", .serialized, .timeLimit(.minutes(3)))
struct ExactlyOnceTests {
    @Test("every committed event is applied once; a rolled-back one never leaves")
    func endToEnd() async throws {
        try await MessagingHarness.with { harness in
            let ids = try await harness.emit(300, perTransaction: 10)
            struct Abandon: Error {}
            await #expect(throws: (any Error).self) {
                try await harness.client.withTransaction(logger: TestEnvironment.logger) { connection in
                    try await harness.outbox.record(Probe(n: 999), aggregateID: "a-0", on: connection)
                    throw Abandon()
                }
            }
            #expect(try await harness.outboxIDs() == Set(ids))
            let relay = harness.relay()
            let consumer = harness.consumer()
            #expect(try await running([relay, consumer], until: { try await harness.effects().count == ids.count }))
            let effects = try await harness.effects()
            #expect(Set(effects.keys) == Set(ids))
            #expect(effects.values.allSatisfy { $0 == 1 })
            #expect(try await harness.inboxCount() == ids.count)
            #expect(try await harness.unsentCount() == 0)
            // Per-aggregate sequences run 1…n without gaps, in commit order.
            let sequences = try await harness.client.query(
                "SELECT aggregate_id, array_agg(aggregate_sequence ORDER BY position) FROM outbox GROUP BY aggregate_id",
                logger: TestEnvironment.logger
            ).collect().map { try $0.decode((String, [Int64]).self) }
            #expect(sequences.count == 10)
            for (_, sequence) in sequences { #expect(sequence == Array(1...Int64(sequence.count))) }
        }
    }

    @Test("the envelope carries identity, ordering and tracing, and message_id is the event id")
    func envelope() async throws {
        try await MessagingHarness.with { harness in
            let cause = EventMetadata(
                eventID: UUID(),
                type: "test.cause.happened",
                schemaVersion: 1,
                occurredAt: Date(),
                producer: "other",
                correlationID: UUID(),
                causationID: nil,
                aggregateID: "x",
                aggregateSequence: 1
            )
            let metadata = try await harness.client.withConnection { connection in
                try await harness.outbox.record(Probe(n: 1), aggregateID: "member-1", causedBy: cause, on: connection)
            }
            #expect(metadata.correlationID == cause.correlationID)
            #expect(metadata.causationID == cause.eventID)
            #expect(metadata.producer == "test")
            #expect(metadata.aggregateSequence == 1)
            try await harness.relay().relayBatch()
            let message = try #require(try await harness.publisher.peek(queue: EventBus.queue(for: harness.service), limit: 1).first)
            #expect(message.messageID == metadata.eventID.uuidString.lowercased())
            #expect(message.type == Probe.eventType)
            #expect(message.correlationID == cause.correlationID.uuidString.lowercased())
            #expect(message.headers[EventHeader.aggregateID] == .string("member-1"))
            let decoded = try EventCoding.decoder().decode(EventEnvelope<Probe>.self, from: Data(message.body))
            // The wire keeps milliseconds.
            #expect(abs(decoded.metadata.occurredAt.timeIntervalSince(metadata.occurredAt)) < 0.001)
            var sameInstant = decoded.metadata
            sameInstant.occurredAt = metadata.occurredAt
            #expect(sameInstant == metadata)
            #expect(decoded.payload == Probe(n: 1))
        }
    }

    @Test("the same event delivered twice changes nothing the second time")
    func duplicateDelivery() async throws {
        try await MessagingHarness.with { harness in
            let eventID = UUID()
            let body = try harness.envelopeJSON(Probe(n: 7), eventID: eventID)
            for _ in 0..<3 { try await harness.publishRaw(body, type: Probe.eventType, messageID: eventID.uuidString.lowercased()) }
            let consumer = harness.observedConsumer()
            #expect(try await running([consumer], until: { harness.deliveries.withLock { $0[eventID.uuidString.lowercased()] } == 3 }))
            #expect(try await harness.effects() == [eventID: 1])
            #expect(try await harness.inboxCount() == 1)
        }
    }

    @Test("consumer torn down after its transaction committed but before the ack: redelivered, applied once")
    func consumerKilledBeforeAck() async throws {
        try await MessagingHarness.with { harness in
            let ids = try await harness.emit(40)
            try await harness.relay().relayBatch()
            let victim = Mutex<String?>(nil)
            let doomed = harness.observedConsumer { delivery in
                guard
                    victim.withLock({ current in
                        if current == nil {
                            current = delivery.messageID
                            return true
                        }
                        return false
                    })
                else { return }
                // "Killed": stuck after the commit until the task is torn down, never acking.
                try? await Task.sleep(for: .seconds(3600))
            }
            let task = Task { try await doomed.run() }
            #expect(await eventually { victim.withLock { $0 } != nil })
            task.cancel()
            try await task.value

            let survivor = harness.observedConsumer()
            #expect(try await running([survivor], until: { try await harness.effects().count == ids.count }))
            let effects = try await harness.effects()
            #expect(Set(effects.keys) == Set(ids))
            #expect(effects.values.allSatisfy { $0 == 1 })
            let victimID = try #require(victim.withLock { $0 })
            #expect(harness.deliveries.withLock { $0[victimID] ?? 0 } >= 2, "the victim was not redelivered")
        }
    }

    @Test("relay killed after the broker confirmed but before its batch committed: republished, applied once")
    func relayKilledAfterConfirm() async throws {
        try await MessagingHarness.with { harness in
            // The first relay commit fails, exactly as if the relay died after the confirms.
            // A sequence is not rolled back with the transaction, so the fault fires once.
            for statement in [
                "CREATE SEQUENCE relay_fault",
                """
                CREATE FUNCTION relay_fault() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('relay_fault') = 1 THEN RAISE EXCEPTION 'relay died after the broker confirmed'; END IF;
                    RETURN NULL;
                END $$
                """,
                // Deferred: it runs at the relay's commit, after the broker confirmed the batch.
                """
                CREATE CONSTRAINT TRIGGER relay_fault AFTER DELETE ON outbox_pending DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION relay_fault()
                """,
            ] {
                try await harness.client.query(PostgresQuery(unsafeSQL: statement), logger: TestEnvironment.logger)
            }
            let ids = try await harness.emit(30)
            let relay = harness.relay()
            await #expect(throws: (any Error).self) { try await relay.relayBatch() }
            #expect(try await harness.unsentCount() == 30)
            #expect(try await harness.publisher.messageCount(queue: EventBus.queue(for: harness.service)) == 30)
            #expect(try await relay.relayBatch() == 30)
            #expect(try await harness.unsentCount() == 0)

            let consumer = harness.observedConsumer()
            #expect(try await running([consumer], until: { harness.deliveries.withLock { $0.values.reduce(0, +) } == 60 }))
            let effects = try await harness.effects()
            #expect(Set(effects.keys) == Set(ids))
            #expect(effects.values.allSatisfy { $0 == 1 })
            #expect(try await harness.inboxCount() == 30)
        }
    }

    @Test("poison messages go to the dead-letter queue with the reason; good ones around them are applied")
    func poison() async throws {
        try await MessagingHarness.with { harness in
            let good = try await harness.emit(5)
            try await harness.relay().relayBatch()
            try await harness.publishRaw("this is not JSON", type: Probe.eventType)
            try await harness.publishRaw(try harness.envelopeJSON(Probe(n: 1)), type: "test.unknown.happened")
            try await harness.publishRaw(try harness.envelopeJSON(Probe(n: -5)), type: Probe.eventType)
            try await harness.publishRaw(#"{"eventId":"not-a-uuid"}"#, type: Probe.eventType)
            let more = try await harness.emit(5)
            try await harness.relay().relayBatch()

            let deadLetters = DeadLetters(service: harness.service, publisher: harness.publisher)
            let consumer = harness.consumer()
            #expect(
                try await running(
                    [consumer],
                    until: {
                        guard try await harness.effects().count == 10 else { return false }
                        return try await deadLetters.count() == 4
                    }
                )
            )
            let applied = try await harness.effects()
            #expect(Set(applied.keys) == Set(good + more))
            let reasons = try await deadLetters.list(limit: 10).map { $0.reason ?? "" }
            #expect(reasons.count == 4)
            #expect(reasons.contains { $0.contains("not JSON") })
            #expect(reasons.contains { $0.contains("unknown event type test.unknown.happened") })
            #expect(reasons.contains { $0.contains("n must not be negative") })
            #expect(reasons.contains { $0.contains("eventId") || $0.contains("missing") || $0.contains("invalid value") })
            // Listing leaves them in place (requeued messages count again a moment later).
            #expect(try await eventually { try await deadLetters.count() == 4 })
        }
    }

    @Test("an event that is not what the broker routed, or not from the service that owns its type, is dead-lettered with the reason")
    func impostors() async throws {
        try await MessagingHarness.with { harness in
            func send(_ n: Int, type: String = Probe.eventType, producer: String = "test", amqpType: String = Probe.eventType) async throws {
                let id = UUID()
                let body = try harness.envelopeJSON(Probe(n: n), eventID: id, type: type, producer: producer)
                try await harness.publishRaw(body, type: amqpType, routedAs: Probe.eventType, messageID: id.uuidString.lowercased())
            }
            try await send(1, type: "test.other.happened")
            try await send(2, producer: "coupon")
            try await send(3, amqpType: "test.other.happened")
            try await send(4)

            let deadLetters = DeadLetters(service: harness.service, publisher: harness.publisher)
            #expect(
                try await running(
                    [harness.consumer()],
                    until: {
                        guard try await harness.effects().count == 1 else { return false }
                        return try await deadLetters.count() == 3
                    }
                )
            )
            #expect(try await harness.effects().count == 1)
            let reasons = try await deadLetters.list(limit: 10).map { $0.reason ?? "" }
            #expect(reasons.contains("routed as test.probe.recorded but the envelope's type is test.other.happened"), "\(reasons)")
            #expect(reasons.contains("test.probe.recorded belongs to test, but the envelope's producer is coupon"), "\(reasons)")
            #expect(reasons.contains("routed as test.probe.recorded but the message's type is test.other.happened"), "\(reasons)")
        }
    }

    @Test("a payload that holds a NUL is dead-lettered at once, not retried against a database that cannot store it")
    func nulInPayload() async throws {
        try await MessagingHarness.with { harness in
            let id = UUID()
            let body = try harness.envelopeJSON(Probe(n: 1), eventID: id).replacingOccurrences(
                of: #""aggregateId":"raw""#,
                with: #""aggregateId":"r\u0000w""#
            )
            #expect(body.contains(#"\u0000"#))
            try await harness.publishRaw(body, type: Probe.eventType, messageID: id.uuidString.lowercased())
            let deadLetters = DeadLetters(service: harness.service, publisher: harness.publisher)
            #expect(try await running([harness.consumer()], until: { try await deadLetters.count() == 1 }))
            let entry = try #require(try await deadLetters.list(limit: 1).first)
            #expect(entry.reason?.contains("NUL") == true)
            #expect(entry.attempts == nil, "retried first: \(String(describing: entry.attempts))")
        }
    }

    @Test("a failing handler is retried with back-off without blocking the queue, then succeeds once")
    func retryThenSucceed() async throws {
        try await MessagingHarness.with { harness in
            let flaky = try await harness.emit(1, failTimes: 2)
            let steady = try await harness.emit(20)
            try await harness.relay().relayBatch()
            let consumer = harness.consumer()
            let steadyFirst = Mutex(false)
            #expect(
                try await running(
                    [consumer],
                    until: {
                        let effects = try await harness.effects()
                        if effects.count == 20, effects[flaky[0]] == nil { steadyFirst.withLock { $0 = true } }
                        return effects.count == 21
                    }
                )
            )
            #expect(steadyFirst.withLock { $0 }, "the queue waited behind the failing event")
            #expect(try await harness.effects()[flaky[0]] == 1)
            #expect(harness.attempts.withLock { $0[flaky[0]] } == 3)
            let applied = try await harness.effects()
            #expect(Set(applied.keys) == Set(flaky + steady))
        }
    }

    @Test("after the last retry the event is dead-lettered, and replaying it applies it once")
    func exhaustedThenReplayed() async throws {
        try await MessagingHarness.with { harness in
            let doomed = try await harness.emit(1, failTimes: 3)  // three attempts allowed, all fail
            try await harness.relay().relayBatch()
            let deadLetters = DeadLetters(service: harness.service, publisher: harness.publisher)
            #expect(try await running([harness.consumer()], until: { try await deadLetters.count() == 1 }))
            let entry = try #require(try await deadLetters.list(limit: 1).first)
            #expect(entry.eventId == doomed[0].uuidString.lowercased())
            #expect(entry.reason?.contains("handler failed 3 times") == true)
            #expect(entry.reason?.contains("probe handler failed on attempt 3") == true)
            #expect(try await harness.effects().isEmpty)

            // The cause is fixed (the fourth attempt succeeds); the operator replays.
            #expect(try await deadLetters.replay(limit: 10) == 1)
            #expect(try await deadLetters.count() == 0)
            #expect(try await running([harness.consumer()], until: { try await harness.effects()[doomed[0]] == 1 }))
            #expect(harness.attempts.withLock { $0[doomed[0]] } == 4)
        }
    }

    @Test("an unreachable database uses up no attempts: an event that meets it more often than it may fail is still applied, never dead-lettered")
    func outageIsNotAFailure() async throws {
        try await MessagingHarness.with { harness in
            // Three attempts are allowed; the database is away for the first five.
            let ids = try await harness.emit(1, unavailableTimes: 5)
            try await harness.relay().relayBatch()
            let deadLetters = DeadLetters(service: harness.service, publisher: harness.publisher)
            #expect(try await running([harness.consumer()], until: { try await harness.effects()[ids[0]] == 1 }, timeout: .seconds(40)))
            #expect(try await deadLetters.count() == 0)
            #expect(harness.attempts.withLock { $0[ids[0]] } == 6)
        }
    }

    @Test("two relays on one outbox publish every event once between them")
    func twoRelays() async throws {
        try await MessagingHarness.with { harness in
            var small = OutboxRelay.Settings()
            small.batchSize = 25
            let ids = try await harness.emit(400, perTransaction: 20)
            let first = OutboxRelay(
                database: harness.client,
                publisher: harness.publisher,
                producer: "test",
                settings: small,
                logger: TestEnvironment.logger
            )
            let second = OutboxRelay(
                database: harness.client,
                publisher: harness.publisher,
                producer: "test",
                settings: small,
                logger: TestEnvironment.logger
            )
            #expect(try await running([first, second], until: { try await harness.unsentCount() == 0 }))
            // Every event is on the broker exactly once: no row was published by both relays.
            #expect(try await eventually { try await harness.publisher.messageCount(queue: EventBus.queue(for: harness.service)) == ids.count })
            let consumer = harness.observedConsumer()
            #expect(try await running([consumer], until: { try await harness.effects().count == ids.count }))
            #expect(harness.deliveries.withLock { $0.values.allSatisfy { $0 == 1 } && $0.count == ids.count })
        }
    }

    @Test("a batch is marked pending in runs; a claim takes whole runs, oldest first, until it has its batch, and keeps each aggregate's order")
    func runs() async throws {
        try await MessagingHarness.with { harness in
            try await harness.emitBatch(250)
            try await harness.emit(3)
            let markers = try await harness.client.query("SELECT count(*)::int8 FROM outbox_pending", logger: TestEnvironment.logger)
                .collect().first?.decode(Int.self)
            #expect(markers == 3 + 3)  // runs of 100, 100 and 50, and one per single record
            #expect(try await harness.unsentCount() == 253)
            let relay = harness.relay { $0.batchSize = 120 }
            #expect(try await relay.relayBatch() == 200)  // two runs reach 120
            #expect(try await harness.unsentCount() == 53)
            #expect(try await relay.relayBatch() == 53)
            #expect(try await relay.relayBatch() == 0)
            let published = try await harness.publisher.peek(queue: EventBus.queue(for: harness.service), limit: 300)
            #expect(published.count == 253)
            // On the broker, each aggregate's events arrive in the order of their sequence.
            var sequences: [String: [Int64]] = [:]
            for delivery in published where delivery.appID == "test" {
                let envelope = try EventCoding.decoder().decode(EventEnvelope<Probe>.self, from: Data(delivery.body))
                sequences[envelope.metadata.aggregateID, default: []].append(envelope.metadata.aggregateSequence)
            }
            #expect(sequences.count == 10)
            #expect(sequences.values.allSatisfy { $0 == Array(1...Int64($0.count)) })
        }
    }

    @Test("an event committed while a claim is under way is published, not dropped with its marker")
    func committedDuringClaim() async throws {
        try await MessagingHarness.with { harness in
            let logger = TestEnvironment.logger
            let relay = harness.relay()
            // The claim's own statements see rows committed after the relay's statement began.
            // Holding the pending table makes the claim wait exactly there while an event
            // commits; the first form then claimed its marker but could not see its row, and
            // dropped it.
            let claim = try await harness.client.withTransaction(logger: logger) { connection in
                try await connection.query("LOCK TABLE outbox_pending IN EXCLUSIVE MODE", logger: logger)
                let claim = Task { try await relay.relayBatch() }
                let waiting = try await eventually {
                    try await harness.client.query(
                        """
                        SELECT count(*)::int8 FROM pg_locks WHERE NOT granted AND relation = 'outbox_pending'::regclass
                            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """,
                        logger: logger
                    ).collect().first?.decode(Int.self) == 1
                }
                #expect(waiting, "the claim never waited for the pending table")
                _ = try await harness.outbox.record(Probe(n: 1), aggregateID: "a-1", on: connection)
                return claim
            }
            #expect(try await claim.value == 1)
            #expect(try await harness.unsentCount() == 0)
            #expect(try await eventually { try await harness.publisher.messageCount(queue: EventBus.queue(for: harness.service)) == 1 })
        }
    }

    @Test("sent rows are pruned after the retention period, a few at a time; unsent ones never are")
    func pruning() async throws {
        try await MessagingHarness.with { harness in
            try await harness.emit(10)
            let relay = harness.relay { $0.pruneBatch = 4 }
            #expect(try await relay.relayBatch() == 10)
            try await harness.emit(5)
            // Rows recorded more than a week ago are pruned once sent; the five unsent ones stay.
            try await harness.client.query("UPDATE outbox SET created_at = now() - interval '8 days'", logger: TestEnvironment.logger)
            // One statement deletes at most a batch: the relay publishes between them.
            #expect(try await relay.pruneBatch() == 4)
            #expect(try await harness.outboxIDs().count == 11)
            try await relay.prune()
            #expect(try await harness.outboxIDs().count == 5)
            #expect(try await harness.unsentCount() == 5)
        }
    }

    @Test("a batch whose handler fails rolls back and is handled one by one; a duplicate within a batch applies once")
    func batchFallback() async throws {
        try await MessagingHarness.with { harness in
            let flaky = try await harness.emit(1, failTimes: 1)
            let steady = try await harness.emit(9)
            try await harness.relay().relayBatch()
            let deliveries = try await harness.publisher.peek(queue: EventBus.queue(for: harness.service), limit: 10)
            #expect(deliveries.count == 10)
            let dispositions = await harness.processor().processBatch(deliveries + [deliveries[3]])
            #expect(dispositions.count == 11)
            #expect(dispositions.allSatisfy { $0 == .acknowledge })
            let effects = try await harness.effects()
            #expect(Set(effects.keys) == Set(flaky + steady))
            #expect(effects.values.allSatisfy { $0 == 1 })
            // The flaky event failed inside the batch, then succeeded on its own.
            #expect(harness.attempts.withLock { $0[flaky[0]] } == 2)
            // Processed again (a redelivery), nothing changes.
            _ = await harness.processor().processBatch(deliveries)
            #expect(try await harness.effects() == effects)
        }
    }
}
