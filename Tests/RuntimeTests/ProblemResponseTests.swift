import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Every error is problem+json with the right status", .timeLimit(.minutes(3)))
struct ProblemResponseTests {
    func withApp(_ test: @escaping @Sendable (any TestClientProtocol, TokenAuthority) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let (app, platform) = try await makeRuntimeTestApplication(databaseURL: database.url)
            try await app.test(.live) { client in try await test(client, platform.tokens) }
        }
    }

    @Test("malformed JSON is a 400")
    func malformed() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "g-1", role: .guide)
            try await client.execute(uri: "/api/v1/registrations", method: .post, headers: .bearer(token), body: ByteBuffer(string: "{\"phone\": ")) {
                response in
                #expect(response.status == .badRequest)
                #expect(response.isProblemJSON)
                let problem = try response.problem()
                #expect(problem.status == 400)
                #expect(problem.detail == "The request body is not valid JSON.")
                #expect(problem.requestId == response.headers[.xRequestID])
            }
        }
    }

    @Test("invalid fields are a 422 that names each one")
    func validation() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "g-1", role: .guide)
            let cases: [(String, Set<String>)] = [
                (#"{"phone": "12", "name": "", "items": []}"#, ["phone", "name"]),
                (#"{"phone": "13812345678", "items": []}"#, ["name"]),
                (#"{"phone": "13812345678", "name": "Li", "items": [{"amount": "lots"}]}"#, ["items[0].amount"]),
                (#"{"phone": null, "name": "Li", "items": []}"#, ["phone"]),
            ]
            for (body, fields) in cases {
                try await client.execute(uri: "/api/v1/registrations", method: .post, headers: .bearer(token), body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .unprocessableContent, "\(body)")
                    let problem = try response.problem()
                    #expect(Set(problem.errors?.map(\.field) ?? []) == fields, "\(body)")
                    #expect(problem.type == "urn:aftercare:problem:validation")
                }
            }
            try await client.execute(
                uri: "/api/v1/registrations",
                method: .post,
                headers: .bearer(token),
                body: ByteBuffer(string: #"{"phone": "13812345678", "name": "Li", "items": []}"#)
            ) { response in
                #expect(response.status == .created)
            }
        }
    }

    @Test("an unknown route is a 404 problem")
    func notFound() async throws {
        try await withApp { client, _ in
            try await client.execute(uri: "/no/such/thing", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.isProblemJSON)
                let problem = try response.problem()
                #expect(problem.status == 404)
            }
        }
    }

    @Test("a conflict is a 409 problem with its detail")
    func conflict() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "hq-1", role: .hqAdmin)
            try await client.execute(uri: "/api/v1/conflicts", method: .get, headers: .bearer(token)) { response in
                #expect(response.status == .conflict)
                let problem = try response.problem()
                #expect(problem.detail == "This phone number already belongs to another member.")
            }
        }
    }

    @Test("a body over the limit is a 413, declared or streamed")
    func tooLarge() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "g-1", role: .guide)
            let big = ByteBuffer(string: "{\"name\": \"" + String(repeating: "x", count: 4096) + "\"}")
            try await client.execute(uri: "/api/v1/registrations", method: .post, headers: .bearer(token), body: big) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.isProblemJSON)
            }
        }
    }

    @Test("an unexpected error is a bare 500 that reveals nothing")
    func internalError() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "hq-1", role: .hqAdmin)
            try await client.execute(uri: "/api/v1/crash", method: .get, headers: .bearer(token)) { response in
                #expect(response.status == .internalServerError)
                #expect(response.isProblemJSON)
                #expect(!response.text.contains("SELECT"))
                #expect(!response.text.contains("LeakyError"))
                let problem = try response.problem()
                #expect(problem.requestId != nil)
            }
        }
    }

    @Test("a caller's request id is echoed; a new one is made otherwise")
    func requestID() async throws {
        try await withApp { client, _ in
            try await client.execute(uri: "/health/live", method: .get, headers: [.xRequestID: "abc-123"]) { response in
                #expect(response.headers[.xRequestID] == "abc-123")
            }
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.headers[.xRequestID]?.count == 36)
            }
        }
    }
}
