import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// What every request is held to before a handler sees it: numbers that fit their fields,
/// text PostgreSQL can store and a person can read, dates and ids parsed strictly. Each
/// refusal is a 422 naming the field, never a 500 or "not valid JSON".
@Suite("Input rules hold for every request", .timeLimit(.minutes(3)))
struct InputRulesTests {
    func withApp(_ test: @escaping @Sendable (any TestClientProtocol, String) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let (app, platform) = try await makeRuntimeTestApplication(databaseURL: database.url, extra: ["HTTP_MAX_BODY_BYTES": "65536"])
            let token = try await platform.tokens.sign(subject: "g-1", role: .guide)
            try await app.test(.live) { client in try await test(client, token) }
        }
    }

    static let valid = #""name": "Li", "count": 3, "amount": 5"#

    @Test(
        "a value that breaks a rule is a 422 naming its field",
        arguments: [
            (#"{"name": "Li\u0000", "count": 3, "amount": 5}"#, "name"),
            (#"{"name": "Li\u0007x", "count": 3, "amount": 5}"#, "name"),
            (#"{"name": "two\nlines", "count": 3, "amount": 5}"#, "name"),
            (#"{"name": "Li", "note": "a\u0000", "count": 3, "amount": 5}"#, "note"),
            (#"{"name": "Li", "count": 1.5, "amount": 5}"#, "count"),
            (#"{"name": "Li", "count": 3, "amount": 9223372036854775808}"#, "amount"),
            (#"{"name": "Li", "count": 3, "amount": -9223372036854775809}"#, "amount"),
            (#"{"name": "Li", "count": 3, "amount": 1e30}"#, "amount"),
            (#"{"name": "Li", "count": 3, "amount": 5, "at": "300000-01-01T00:00:00Z"}"#, "at"),
            (#"{"name": "Li", "count": 3, "amount": 5, "at": "yesterday"}"#, "at"),
            (#"{"name": "Li", "count": 3, "amount": 5, "tags": ["ok", "b\u0000d"]}"#, "tags[1]"),
            (#"{"name": "Li", "count": "3", "amount": 5}"#, "count"),
        ]
    )
    func refused(body: String, field: String) async throws {
        try await withApp { client, token in
            try await client.execute(uri: "/api/v1/inputs", method: .post, headers: .bearer(token), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .unprocessableContent, "\(body): \(response.text)")
                let problem = try response.problem()
                #expect(problem.errors?.map(\.field) == [field], "\(body): \(response.text)")
            }
        }
    }

    @Test("the extremes of a field's type, line breaks where a field allows them, and long text are read as sent")
    func accepted() async throws {
        try await withApp { client, token in
            let body =
                #"{"name": "Li", "note": "first line\nsecond\tline", "count": 3, "amount": -9223372036854775808, "ratio": 0.25, "at": "2026-03-01T09:30:00.5+08:00"}"#
            try await client.execute(uri: "/api/v1/inputs", method: .post, headers: .bearer(token), body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok, "\(response.text)")
                let echoed = try JSONDecoder().decode(Echo.self, from: Data(buffer: response.body))
                #expect(echoed.amount == Int64.min)
                #expect(echoed.note == "first line\nsecond\tline")
                #expect(echoed.ratio == 0.25)
            }
            let long = String(repeating: "字", count: 10_001)
            try await client.execute(
                uri: "/api/v1/inputs",
                method: .post,
                headers: .bearer(token),
                body: ByteBuffer(string: #"{"name": "\#(long)", "count": 3, "amount": 5}"#)
            ) { response in
                #expect(response.status == .unprocessableContent)
                let problem = try response.problem()
                #expect(problem.errors?.first?.message.contains("at most 10000") == true)
            }
        }
    }

    struct Echo: Decodable {
        let amount: Int64
        let note: String?
        let ratio: Double?
    }

    @Test(
        "query parameters and path segments are held to the same rules",
        arguments: [
            ("/api/v1/inputs/2024-02-29?memberId=abc%00def", "memberId"),
            ("/api/v1/inputs/2024-02-29?tag=a%00", "tag"),
            ("/api/v1/inputs/2024-02-29?limit=1.5", "limit"),
            ("/api/v1/inputs/2024-02-29?limit=9223372036854775808", "limit"),
            ("/api/v1/inputs/2024-02-29?limit=0", "limit"),
            ("/api/v1/inputs/2024-02-29?memberId=6F9619FF-8B86-D011-B42D-00C04FC964F%2B", "memberId"),
            ("/api/v1/inputs/2024-02-%2B1", "day"),
            ("/api/v1/inputs/2023-02-29", "day"),
            ("/api/v1/inputs/20a4-02-01", "day"),
            ("/api/v1/inputs/2024%0002-01", "(path)"),
        ]
    )
    func queries(uri: String, field: String) async throws {
        try await withApp { client, token in
            try await client.execute(uri: uri, method: .get, headers: .bearer(token)) { response in
                #expect(response.status == .unprocessableContent, "\(uri): \(response.text)")
                let problem = try response.problem()
                #expect(problem.errors?.map(\.field).contains(field) == true, "\(uri): \(response.text)")
            }
        }
    }

    @Test("a strict date, a bounded limit and an id in either case are read as meant")
    func goodQuery() async throws {
        try await withApp { client, token in
            try await client.execute(
                uri: "/api/v1/inputs/2024-02-29?limit=200&memberId=6F9619FF-8B86-D011-B42D-00C04FC964FF",
                method: .get,
                headers: .bearer(token)
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text == "2024-2-29 200 6f9619ff-8b86-d011-b42d-00c04fc964ff")
            }
        }
    }
}
