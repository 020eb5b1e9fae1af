import AftercareAMQP
import AftercareTestSupport
import Foundation
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Publishing with confirms and consuming with acks on a real RabbitMQ", .timeLimit(.minutes(3)))
struct PublishConsumeTests {
    let settings: AMQPSettings
    let queue: String
    /// Tests run in parallel on one exchange: each binds its own routing key.
    let routingKey: String

    init() throws {
        settings = try AMQPSettings(url: try TestEnvironment.amqpURL(), heartbeatSeconds: 2)
        let id = UUID().uuidString.lowercased()
        queue = "test.amqp.\(id)"
        routingKey = "test.\(id).happened"
    }

    var topology: AMQPTopology {
        AMQPTopology(
            exchanges: [.init(name: "test.amqp", type: "topic")],
            queues: [.init(name: queue, arguments: ["x-queue-type": .string("quorum")])],
            bindings: [.init(queue: queue, exchange: "test.amqp", routingKey: routingKey)]
        )
    }

    func message(_ id: String, key: String? = nil) -> AMQPOutgoingMessage {
        let key = key ?? routingKey
        return AMQPOutgoingMessage(
            exchange: "test.amqp",
            routingKey: key,
            body: Array("{\"n\":\"\(id)\"}".utf8),
            messageID: id,
            type: key,
            correlationID: "corr-\(id)",
            appID: "tests",
            headers: ["x-attempt": .int(1), "x-note": .string("é ü")]
        )
    }

    @Test("every published message is confirmed, then consumed once with its properties intact")
    func roundTrip() async throws {
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: topology, logger: TestEnvironment.logger)
        publisher.start()
        #expect(await eventually { publisher.isConnected })
        let ids = (0..<250).map { "m-\($0)" }
        let outcomes = try await publisher.publish(ids.map { message($0) })
        #expect(outcomes == Array(repeating: .confirmed, count: ids.count))
        #expect(try await publisher.messageCount(queue: queue) == ids.count)

        let received = Mutex<[AMQPDelivery]>([])
        let consumer = AMQPConsumer(
            settings: settings,
            name: "test-consumer",
            queue: queue,
            prefetch: 50,
            topology: topology,
            logger: TestEnvironment.logger
        ) { delivery in
            received.withLock { $0.append(delivery) }
            return .acknowledge
        }
        try await runUntil(consumer) { received.withLock { $0.count } == ids.count }
        let deliveries = received.withLock { $0 }
        #expect(deliveries.map(\.messageID) == ids)
        let first = try #require(deliveries.first)
        #expect(first.type == routingKey)
        #expect(first.correlationID == "corr-m-0")
        #expect(first.appID == "tests")
        #expect(first.headers["x-attempt"] == .int(1))
        #expect(first.headers["x-note"] == .string("é ü"))
        #expect(String(decoding: first.body, as: UTF8.self) == "{\"n\":\"m-0\"}")
        // Every acknowledgement reached the broker: nothing went back to the queue. Under a full
        // run's load on two cores the count twice stayed above 0 past the default 15 s; whether
        // the quorum queue settled late or acks were lost is not established. A lost ack keeps
        // the count up for ever, so the longer wait still catches one.
        #expect(try await eventually(timeout: .seconds(60)) { try await publisher.messageCount(queue: queue) == 0 })
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
    }

    @Test("a message no queue is bound for is reported as unroutable, not lost silently")
    func unroutable() async throws {
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: topology, logger: TestEnvironment.logger)
        publisher.start()
        let outcomes = try await eventuallyPublish(publisher, [message("a"), message("b", key: "nobody.listens.here"), message("c")])
        #expect(outcomes == [.confirmed, .unroutable, .confirmed])
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
    }

    @Test("a message the broker refuses (a full queue) is a nack the publisher reports, and the publisher goes on")
    func nacked() async throws {
        // A classic queue holding one message that refuses more: the broker nacks the rest.
        let full = AMQPTopology(
            exchanges: [.init(name: "test.amqp", type: "topic")],
            queues: [.init(name: queue, arguments: ["x-max-length": .int(1), "x-overflow": .string("reject-publish")])],
            bindings: [.init(queue: queue, exchange: "test.amqp", routingKey: routingKey)]
        )
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: full, logger: TestEnvironment.logger)
        publisher.start()
        #expect(try await eventuallyPublish(publisher, [message("first")]) == [.confirmed])
        await #expect(throws: AMQPError.self) { try await publisher.publish((0..<50).map { message("over-\($0)") }) }
        #expect(try await publisher.messageCount(queue: queue) == 1)
        // The channel stays usable: what fits is confirmed.
        try await publisher.deleteQueue(queue)
        #expect(try await publisher.publish(message("after", key: "nobody.listens.here")) == .unroutable)
        await publisher.shutdown()
    }

    @Test("a message the handler requeues comes back")
    func requeue() async throws {
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: topology, logger: TestEnvironment.logger)
        publisher.start()
        _ = try await eventuallyPublish(publisher, [message("again")])
        let attempts = Mutex<[Bool]>([])
        let consumer = AMQPConsumer(
            settings: settings,
            name: "test-consumer",
            queue: queue,
            prefetch: 1,
            topology: topology,
            logger: TestEnvironment.logger
        ) { delivery in
            let count = attempts.withLock {
                $0.append(delivery.redelivered)
                return $0.count
            }
            return count == 1 ? .requeue : .acknowledge
        }
        try await runUntil(consumer) { attempts.withLock { $0.count } == 2 }
        #expect(attempts.withLock { $0 } == [false, true])
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
    }

    @Test("publishing while the broker is unreachable fails instead of hanging")
    func unreachable() async throws {
        let nowhere = try AMQPSettings(url: "amqp://x:y@127.0.0.1:1/aftercare")
        let publisher = AMQPPublisher(settings: nowhere, name: "test-nowhere", logger: TestEnvironment.logger)
        publisher.start()
        await #expect(throws: AMQPError.self) { _ = try await publisher.publish(message("lost")) }
        #expect(!publisher.isConnected)
        await publisher.shutdown()
    }

    /// The first publish may race the initial connection.
    func eventuallyPublish(_ publisher: AMQPPublisher, _ messages: [AMQPOutgoingMessage]) async throws -> [AMQPPublishOutcome] {
        try await waitUntil("the publisher connected") { publisher.isConnected }
        return try await publisher.publish(messages)
    }
}

/// Runs a service until `done` holds (or 20 s pass), then shuts it down gracefully.
func runUntil(_ service: some Service, done: @escaping @Sendable () -> Bool) async throws {
    let group = ServiceGroup(services: [service], logger: TestEnvironment.logger)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let finished = await eventually(timeout: .seconds(20)) { done() }
        #expect(finished, "the work did not finish before shutdown")
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
