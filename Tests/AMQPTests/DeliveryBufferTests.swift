import Testing

@testable import AftercareAMQP

@Suite("A consumer lane's buffer", .timeLimit(.minutes(1)))
struct DeliveryBufferTests {
    func delivery(_ tag: UInt64) -> AMQPDelivery {
        AMQPDelivery(
            deliveryTag: tag,
            connectionGeneration: 1,
            exchange: "",
            routingKey: "q",
            redelivered: false,
            body: [],
            messageID: "\(tag)",
            type: nil,
            correlationID: nil,
            appID: nil,
            headers: [:]
        )
    }

    @Test("takes what accumulated, up to the limit, in order")
    func batches() async {
        let buffer = DeliveryBuffer()
        for tag in UInt64(1)...5 { buffer.append(delivery(tag)) }
        #expect(await buffer.take(limit: 3)?.map(\.deliveryTag) == [1, 2, 3])
        #expect(await buffer.take(limit: 3)?.map(\.deliveryTag) == [4, 5])
        buffer.finish()
        #expect(await buffer.take(limit: 3) == nil)
    }

    @Test("takes what is waiting now without waiting, up to the limit")
    func available() {
        let buffer = DeliveryBuffer()
        #expect(buffer.takeAvailable(limit: 3).isEmpty)
        for tag in UInt64(1)...4 { buffer.append(delivery(tag)) }
        #expect(buffer.takeAvailable(limit: 3).map(\.deliveryTag) == [1, 2, 3])
        #expect(buffer.takeAvailable(limit: 3).map(\.deliveryTag) == [4])
        #expect(buffer.takeAvailable(limit: 3).isEmpty)
    }

    @Test("a waiting lane wakes for a delivery")
    func wakes() async {
        let buffer = DeliveryBuffer()
        let waiting = Task { await buffer.take(limit: 10)?.map(\.deliveryTag) }
        try? await Task.sleep(for: .milliseconds(20))
        buffer.append(delivery(7))
        #expect(await waiting.value == [7])
    }

    /// A lane torn down by cancellation (not a graceful shutdown, which calls `finish`) must
    /// stop waiting, or its consumer never gets to close its connection.
    @Test("a waiting lane stops when its task is cancelled")
    func cancellation() async {
        let buffer = DeliveryBuffer()
        let waiting = Task { await buffer.take(limit: 10) }
        try? await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        // A watchdog releases the lane if cancellation did not, and says so.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(2))
            buffer.finish()
            return true
        }
        #expect(await waiting.value == nil)
        watchdog.cancel()
        #expect((try? await watchdog.value) != true, "the lane ignored cancellation")
    }
}
