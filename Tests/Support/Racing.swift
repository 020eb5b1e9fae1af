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

/// A client that sends again a request which waited past its deadline for a free pooled
/// connection. Such a request never left the client, so sending it again cannot race itself;
/// under a loaded test run dozens of racing requests share a handful of connections.
struct Patient: TestClientProtocol {
    let base: any TestClientProtocol
    var port: Int? { base.port }

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        for _ in 1..<8 {
            do {
                return try await base.executeRequest(uri: uri, method: method, headers: headers, body: body)
            } catch let error as HTTPClientError where error == .getConnectionFromPoolTimeout {
                continue
            }
        }
        return try await base.executeRequest(uri: uri, method: method, headers: headers, body: body)
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
