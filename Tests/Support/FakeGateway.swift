import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real local HTTP server standing in for an SMS gateway or the official-account API:
/// it records every request and answers with the statuses it was told to, in order (200
/// once the script runs out). Every test's queue sees every test's events, so other tests'
/// members are messaged too: `onlyTo` keeps the script for one phone.
public final class FakeGateway: Sendable {
    public struct Received: Sendable {
        public let path: String
        public let idempotencyKey: String?
        public let authorization: String?
        public let body: [String: String]
    }

    private let script: Mutex<[Int]>
    private let onlyTo: String?
    private let log = Mutex<[Received]>([])
    private let port = Mutex<Int?>(nil)
    /// Runs while a request is in hand, before it is answered (a fault to inject mid-call).
    private let whileAnswering: @Sendable (Received) async -> Void

    public init(answers: [Int] = [], onlyTo: String? = nil, whileAnswering: @escaping @Sendable (Received) async -> Void = { _ in }) {
        script = Mutex(answers)
        self.onlyTo = onlyTo
        self.whileAnswering = whileAnswering
    }

    /// While set, every request waits `delay` and then gets `status` (a fault campaign's
    /// failing or slow gateway).
    private let degraded = Mutex<(status: Int?, delay: Duration?)>((nil, nil))

    public func degrade(status: Int? = nil, delay: Duration? = nil) { degraded.withLock { $0 = (status, delay) } }
    public func restore() {
        degraded.withLock { $0 = (nil, nil) }
        stall.withLock { $0 = nil }
    }

    /// While set, every answer sends its status and half its body, then waits `stall`.
    private let stall = Mutex<Duration?>(nil)
    public func stallBodies(for duration: Duration) { stall.withLock { $0 = duration } }

    public var received: [Received] { log.withLock { $0 } }
    public var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)" }

    /// Runs the server for the duration of `body`.
    public func running<T: Sendable>(_ body: @Sendable (FakeGateway) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/messages") { request, _ -> Response in
            var request = request
            let data = try await request.collectBody(upTo: 1 << 20)
            let fields = (try? JSONDecoder().decode([String: String].self, from: Data(buffer: data))) ?? [:]
            let received = Received(
                path: "/messages",
                idempotencyKey: request.headers[.idempotencyKey],
                authorization: request.headers[.authorization],
                body: fields
            )
            self.log.withLock { $0.append(received) }
            await self.whileAnswering(received)
            let (degradedStatus, delay) = self.degraded.withLock { $0 }
            if let delay { try await Task.sleep(for: delay) }
            let scripted = self.onlyTo == nil || fields["to"] == self.onlyTo
            let status = degradedStatus ?? self.script.withLock { $0.isEmpty || !scripted ? 200 : $0.removeFirst() }
            let answer = status < 300 ? #"{"messageId": "gw-\#(UUID().uuidString.lowercased())"}"# : #"{"error": "scripted \#(status)"}"#
            if let stall = self.stall.withLock({ $0 }) {
                // The status and half the answer at once, the rest only after `stall`.
                let half = answer.utf8.count / 2
                return Response(
                    status: .init(code: status),
                    headers: [.contentType: "application/json"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: String(answer.prefix(half))))
                        try await Task.sleep(for: stall)
                        try await writer.write(ByteBuffer(string: String(answer.dropFirst(half))))
                        try await writer.finish(nil)
                    }
                )
            }
            return Response(
                status: .init(code: status),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: answer))
            )
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in self.port.withLock { $0 = channel.localAddress?.port } }
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: app.logger))
        let server = Task { try await group.run() }
        defer { server.cancel() }
        while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
        let result = try await body(self)
        await group.triggerGracefulShutdown()
        _ = await server.result
        return result
    }
}
