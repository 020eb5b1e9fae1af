import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

extension ApplicationProtocol {
    /// Tests a live server reached through a pool of connections; racing tests use it. The
    /// `.live` test client pipelines every request on one connection and the server answers a
    /// connection's requests one after another, so nothing sent through it ever races.
    public func race<Value>(_ test: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await self.test(.ahc(.http)) { client in try await test(Patient(base: client)) }
    }
}

/// A client that lets at most as many requests out at once as the pool has connections,
/// so that no request spends its deadline queued behind the others: under a loaded test
/// run dozens of racing requests share eight connections, and a request let out with
/// little of its 15 s left would fail however quickly the server answered. A request that
/// still timed out waiting for a connection never left the client, so it is sent again; one
/// with an `Idempotency-Key` that got no answer in time is sent again as a member's app
/// would, since the key makes the second sending answer what the first did.
struct Patient: TestClientProtocol {
    let base: any TestClientProtocol
    let turns = Turns(8)
    var port: Int? { base.port }

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        await turns.take()
        do {
            let response = try await sendPatiently(uri: uri, method: method, headers: headers, body: body)
            await turns.give()
            return response
        } catch {
            await turns.give()
            throw error
        }
    }

    private func sendPatiently(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        for _ in 1..<8 {
            do {
                return try await base.executeRequest(uri: uri, method: method, headers: headers, body: body)
            } catch let error as HTTPClientError where error == .getConnectionFromPoolTimeout {
                continue
            } catch let error as HTTPClientError where error == .deadlineExceeded && headers[.idempotencyKey] != nil {
                continue
            }
        }
        return try await base.executeRequest(uri: uri, method: method, headers: headers, body: body)
    }
}

/// A fixed number of turns; `take` waits, first come first served, until one is free.
actor Turns {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func take() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func give() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// Runs `count` copies of `body` at once and answers their results.
public func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    try await withThrowingTaskGroup(of: T.self) { group in
        for index in 0..<count { group.addTask { try await body(index) } }
        var results: [T] = []
        for try await result in group { results.append(result) }
        return results
    }
}
