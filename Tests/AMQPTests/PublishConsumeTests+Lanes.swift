import AftercareAMQP
import AftercareTestSupport
import Foundation
import ServiceLifecycle
import Synchronization
import Testing

/// Lanes on a real RabbitMQ: acknowledgements per run, and batches filled by lingering.
extension PublishConsumeTests {
    @Test("lanes settling out of order, some deliveries requeued: every one is acknowledged in the end, none twice")
    func lanesSettleOutOfOrder() async throws {
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: topology, logger: TestEnvironment.logger)
        publisher.start()
        let ids = (0..<600).map { "m-\($0)" }
        _ = try await eventuallyPublish(publisher, ids.map { message($0) })
        let handled = Mutex<[String: Int]>([:])
        let consumer = AMQPConsumer(
            settings: settings,
            name: "test-consumer",
            queue: queue,
            prefetch: 200,
            topology: topology,
            lanes: 3,
            laneKey: { $0.messageID },
            maxBatch: 25,
            logger: TestEnvironment.logger,
            batchHandler: { batch in
                // Lanes take different times, so they settle out of delivery order.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 0...20)))
                return batch.map { delivery in
                    let id = delivery.messageID ?? ""
                    let seen = handled.withLock { seen in
                        seen[id, default: 0] += 1
                        return seen[id] ?? 0
                    }
                    // Every tenth message is put back once.
                    return (Int(id.dropFirst(2)) ?? 0) % 10 == 0 && seen == 1 ? .requeue : .acknowledge
                }
            }
        )
        try await runUntil(consumer) { handled.withLock { $0.count == ids.count && $0.values.reduce(0, +) == ids.count + ids.count / 10 } }
        let counts = handled.withLock { $0 }
        #expect(counts.count == ids.count)
        #expect(counts.filter { (Int($0.key.dropFirst(2)) ?? 0) % 10 == 0 }.allSatisfy { $0.value == 2 })
        #expect(counts.filter { (Int($0.key.dropFirst(2)) ?? 0) % 10 != 0 }.allSatisfy { $0.value == 1 })
        // Had an acknowledgement been held back or lost, its message would be back in the
        // queue once the consumer's connection closed.
        #expect(try await eventually(timeout: .seconds(60)) { try await publisher.messageCount(queue: queue) == 0 })
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
    }
}

extension PublishConsumeTests {
    @Test("a lane lingers for a short batch to fill: deliveries arriving together are handled together")
    func lingerFillsBatches() async throws {
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: topology, logger: TestEnvironment.logger)
        publisher.start()
        let batches = Mutex<[Int]>([])
        let consumer = AMQPConsumer(
            settings: settings,
            name: "test-consumer",
            queue: queue,
            prefetch: 100,
            topology: topology,
            lanes: 1,
            maxBatch: 50,
            linger: .seconds(2),
            logger: TestEnvironment.logger
        ) { batch in
            batches.withLock { $0.append(batch.count) }
            return batch.map { _ in .acknowledge }
        }
        let group = ServiceGroup(services: [consumer], logger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await eventually { consumer.isConnected })
            // The first message alone, the rest a moment later: without lingering the lane
            // would handle the first by itself.
            _ = try await eventuallyPublish(publisher, [message("m-0")])
            try await Task.sleep(for: .milliseconds(100))
            for n in 1..<20 { _ = try await publisher.publish([message("m-\(n)")]) }
            #expect(await eventually { batches.withLock { $0.reduce(0, +) } == 20 })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // The first batch waited up to 2 s and took what came 100 ms later with it.
        #expect((batches.withLock { $0 }.first ?? 0) > 1, "\(batches.withLock { $0 })")
        try await publisher.deleteQueue(queue)
        await publisher.shutdown()
    }
}
