import AftercareRuntime
import Foundation
import Hummingbird
import HummingbirdTesting

/// Decoded problem+json body, for assertions.
public struct ProblemBody: Decodable, Sendable {
    public let type: String
    public let title: String
    public let status: Int
    public let detail: String?
    public let requestId: String?
    public let errors: [FieldProblem]?
    public let checks: [String: String]?
}

extension TestResponse {
    public var isProblemJSON: Bool { headers[.contentType] == "application/problem+json" }

    public func problem() throws -> ProblemBody {
        try JSONDecoder().decode(ProblemBody.self, from: Data(buffer: body))
    }

    public var text: String { String(buffer: body) }
}

extension HTTPFields {
    public static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }
}

/// Polls `condition` until it holds or the time-out passes; for states reached in the
/// background (a broker connection, a consumer catching up). Returns whether it held.
/// `timeout` is what the wait needs on an idle machine; it is stretched by
/// `TestEnvironment.patience` for a loaded one.
public func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout * TestEnvironment.patience
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// Waits as `eventually` does for a state the test needs before it goes on, and fails the
/// test, naming `what`, when it is not reached.
public func waitUntil(_ what: String, timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async throws {
    guard try await eventually(timeout: timeout, condition) else { throw WaitFailed(what: what, timeout: timeout) }
}

/// Waits until `service` answers ready, as `waitUntil` does; when it does not, the error
/// carries the service's last answer, which names the checks that were down.
public func waitReady(_ service: String, _ client: some TestClientProtocol, timeout: Duration = .seconds(20)) async throws {
    var last = "no answer"
    let ready = try await eventually(timeout: timeout) {
        let (status, text) = try await client.execute(uri: "/health/ready", method: .get) { ($0.status, $0.text) }
        last = text
        return status == .ok
    }
    guard ready else {
        throw FixtureError(message: "\(service) not ready within \(timeout * TestEnvironment.patience); it last answered: \(last)")
    }
}

/// A state a test waited for was not reached in time.
public struct WaitFailed: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public var description: String { "\(what): not reached within \(timeout * TestEnvironment.patience)" }
}

/// A fixture could not set up what its test needs; the message says what.
public struct FixtureError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension JSONDecoder {
    /// Decodes the services' responses (ISO 8601 dates).
    public static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

/// A fixture whose tests call its service's routes with a bearer token and read the raw answer.
public protocol SendsRequests {}

extension SendsRequests {
    /// Sends `body` as `token`'s bearer (with an `Idempotency-Key` when given) and returns
    /// the status and the raw answer.
    public func send(
        _ client: some TestClientProtocol,
        _ method: HTTPRequest.Method,
        _ uri: String,
        token: String,
        body: String? = nil,
        key: String? = nil
    ) async throws -> (HTTPResponse.Status, Data) {
        var headers = HTTPFields.bearer(token)
        if let key { headers[.idempotencyKey] = key }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, Data(buffer: response.body))
        }
    }
}
