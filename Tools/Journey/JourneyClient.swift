import AftercareRuntime
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where the five services answer, e.g. the suite's ports on this machine.
public struct SuiteAddresses: Sendable {
    public var membership: String
    public var dispatch: String
    public var coupon: String
    public var notification: String
    public var feedback: String

    public init(membership: String, dispatch: String, coupon: String, notification: String, feedback: String) {
        (self.membership, self.dispatch, self.coupon, self.notification, self.feedback) = (membership, dispatch, coupon, notification, feedback)
    }

    /// Each service at the URL `url` gives for its name (membership, dispatch, …).
    public init(_ url: (String) -> String) {
        self.init(
            membership: url("membership"),
            dispatch: url("dispatch"),
            coupon: url("coupon"),
            notification: url("notification"),
            feedback: url("feedback")
        )
    }

    /// `scripts/run-suite`'s ports on 127.0.0.1.
    public static let local = SuiteAddresses(
        membership: "http://127.0.0.1:8081",
        dispatch: "http://127.0.0.1:8082",
        coupon: "http://127.0.0.1:8083",
        notification: "http://127.0.0.1:8084",
        feedback: "http://127.0.0.1:8085"
    )
}

/// A step did not turn out as the journey expects: which, and what was answered instead.
public struct JourneyFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One answer: its status and its JSON.
public struct Answer: Sendable {
    public let status: Int
    public let json: JSONTree
    public subscript(key: String) -> JSONTree { json[key] }
}

/// The journey's HTTP client: public API calls with a bearer token and a deadline each, and
/// the polling every hop between services needs (a service learns of a member, a store or a
/// coupon only when the event arrives).
public struct JourneyClient: Sendable {
    let http: HTTPClient
    /// Each request's deadline.
    public var deadline: TimeAmount = .seconds(15)

    public init(http: HTTPClient) { self.http = http }

    public func call(
        _ method: HTTPMethod,
        _ url: String,
        token: String,
        body: [String: any Sendable]? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await http.execute(request, timeout: deadline)
        let data = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), json: JSONTree.parse(Data(buffer: data)))
    }

    /// The call, which must answer one of `expected`.
    public func must(
        _ expected: Set<Int>,
        _ method: HTTPMethod,
        _ url: String,
        token: String,
        body: [String: any Sendable]? = nil,
        headers: [(String, String)] = []
    ) async throws -> Answer {
        let answer = try await call(method, url, token: token, body: body, headers: headers)
        guard expected.contains(answer.status) else {
            throw JourneyFailure("\(method) \(url) answered \(answer.status), not \(expected.sorted()): \(answer.json)")
        }
        return answer
    }

    /// Polls `probe` until it gives a value (every 25 ms, so that hops read to a few
    /// milliseconds, up to `timeout`); the last answer it saw goes into the failure. A call
    /// that found the service down (refused, reset, timed out) is polled again, as a person's
    /// app would; a `JourneyFailure` from the probe ends the walk.
    public func eventually<T: Sendable>(
        _ what: String,
        timeout: Duration = .seconds(60),
        _ probe: () async throws -> (T?, seen: String)
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        var seen = ""
        while true {
            do {
                let (value, last) = try await probe()
                if let value { return value }
                seen = last
            } catch let failure as JourneyFailure {
                throw failure
            } catch {
                seen = "\(error)"
            }
            guard ContinuousClock.now < deadline else { throw JourneyFailure("\(what): not within \(timeout); last seen: \(seen)") }
            try await Task.sleep(for: .milliseconds(25))
        }
    }
}
