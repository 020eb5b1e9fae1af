import AftercareAMQP
import AftercareTestSupport
import Foundation
import Testing

@Suite("A silent network cut", .timeLimit(.minutes(3)))
struct NetworkCutTests {
    @Test("is detected within a few heartbeats; publishing fails instead of hanging; the connection comes back")
    func cutAndRestore() async throws {
        let direct = try AMQPSettings(url: try TestEnvironment.amqpURL())
        let proxy = try await BlackholeProxy(targetHost: direct.host, targetPort: direct.port)
        var settings = direct
        settings.port = proxy.port
        settings.heartbeatSeconds = 2
        settings.rpcTimeoutSeconds = 3
        let publisher = AMQPPublisher(settings: settings, name: "test-cut", confirmTimeout: .seconds(5), logger: TestEnvironment.logger)
        publisher.start()
        #expect(await eventually { publisher.isConnected })
        let probe = AMQPOutgoingMessage(exchange: "", routingKey: "no-such-queue", body: Array("{}".utf8), messageID: UUID().uuidString.lowercased())
        #expect(try await publisher.publish(probe) == .unroutable)

        proxy.cutNetwork()
        let cutAt = ContinuousClock.now
        // A publish into the void returns an error within its confirm timeout.
        await #expect(throws: AMQPError.self) { _ = try await publisher.publish(probe) }
        #expect(ContinuousClock.now - cutAt < .seconds(15))
        // Missed heartbeats (2 s) mark the connection dead well within the window.
        #expect(await eventually(timeout: .seconds(12)) { !publisher.isConnected })

        proxy.restoreNetwork()
        #expect(await eventually(timeout: .seconds(30)) { publisher.isConnected })
        #expect(try await publisher.publish(probe) == .unroutable)
        await publisher.shutdown()
        try await proxy.close()
    }
}
