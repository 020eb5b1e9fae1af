@testable import AftercareAMQP
import AftercareTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Acknowledging settled deliveries up to the oldest unsettled one")
struct AckWatermarkTests {
    @Test("acks the run of settled deliveries from the oldest, with the highest acknowledged tag")
    func runs() {
        let watermark = AckWatermark()
        for tag in UInt64(1)...8 { watermark.delivered(tag, generation: 1) }
        // A later lane finishes first: nothing can be acked past the unsettled 1.
        #expect(watermark.settle([(3, true), (4, true)], generation: 1) == nil)
        #expect(watermark.settle([(1, true), (2, true)], generation: 1) == 4)
        // A rejected delivery ends a run without being acked itself.
        #expect(watermark.settle([(5, true), (6, false)], generation: 1) == 5)
        #expect(watermark.settle([(7, false)], generation: 1) == nil)
        #expect(watermark.settle([(8, true)], generation: 1) == 8)
    }

    @Test("a new connection's tags start afresh; the old one's settlements are ignored")
    func generations() {
        let watermark = AckWatermark()
        for tag in UInt64(1)...3 { watermark.delivered(tag, generation: 1) }
        #expect(watermark.settle([(2, true)], generation: 1) == nil)
        watermark.delivered(1, generation: 2)
        #expect(watermark.settle([(1, true)], generation: 1) == nil)
        #expect(watermark.settle([(1, true)], generation: 2) == 1)
    }

    @Test("keeps up over many deliveries settled in shuffled batches")
    func many() {
        let watermark = AckWatermark()
        let count: UInt64 = 10_000
        for tag in 1...count { watermark.delivered(tag, generation: 1) }
        var highest: UInt64 = 0
        for batch in Array(1...count).chunked(500).shuffled() {
            if let tag = watermark.settle(batch.map { ($0, true) }, generation: 1) {
                #expect(tag > highest)
                highest = tag
            }
        }
        #expect(highest == count)
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

extension PublishConsumeTests {
    @Test("lanes settling out of order, some deliveries requeued: every one is acknowledged in the end, none twice")
    func lanesSettleOutOfOrder() async throws {
        let publisher = AMQPPublisher(settings: settings, name: "test-publisher", topology: topology, logger: TestEnvironment.logger)
        publisher.start()
        let ids = (0..<600).map { "m-\($0)" }
        _ = try await eventuallyPublish(publisher, ids.map { message($0) })
        let handled = Mutex<[String: Int]>([:])
        let consumer = AMQPConsumer(
            settings: settings, name: "test-consumer", queue: queue, prefetch: 200, topology: topology, lanes: 3,
            laneKey: { $0.messageID }, maxBatch: 25, logger: TestEnvironment.logger
        ) { batch in
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
