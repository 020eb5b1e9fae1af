import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Bearer tokens: issuer, audience, expiry and role", .timeLimit(.minutes(3)))
struct AuthenticationTests {
    func withApp(_ test: @escaping @Sendable (any TestClientProtocol, TokenAuthority) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let (app, platform) = try await makeRuntimeTestApplication(databaseURL: database.url)
            try await app.test(.live) { client in try await test(client, platform.tokens) }
        }
    }

    func call(_ client: some TestClientProtocol, token: String?) async throws -> (HTTPResponse.Status, String) {
        let headers: HTTPFields = token.map { .bearer($0) } ?? [:]
        return try await client.execute(uri: "/api/v1/whoami", method: .get, headers: headers) { response in
            (response.status, response.status == .ok ? response.text : (try response.problem().detail ?? ""))
        }
    }

    @Test("a valid token reaches the route with its subject and scope")
    func accepted() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "g-7", role: .guide, dealerID: "d-1", storeID: "s-2")
            let (status, body) = try await call(client, token: token)
            #expect(status == .ok)
            #expect(body == "guide g-7 d-1 s-2")
        }
    }

    @Test("no token, a malformed header or a forged token is a 401")
    func missingOrForged() async throws {
        try await withApp { client, tokens in
            #expect(try await call(client, token: nil).0 == .unauthorized)
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: [.authorization: "Basic Zm9vOmJhcg=="]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            let other = await TokenAuthority(
                settings: try JWTSettings(secret: String(repeating: "z", count: 40), issuer: "aftercare", audience: "aftercare")
            )
            let forged = try await other.sign(subject: "g-1", role: .hqAdmin)
            #expect(try await call(client, token: forged).0 == .unauthorized)
            #expect(try await call(client, token: "not.a.token").0 == .unauthorized)
        }
    }

    @Test("an expired token is a 401 that says so")
    func expired() async throws {
        try await withApp { client, tokens in
            let token = try await tokens.sign(subject: "g-1", role: .guide, validFor: .seconds(60), now: Date().addingTimeInterval(-3600))
            let (status, detail) = try await call(client, token: token)
            #expect(status == .unauthorized)
            #expect(detail == "The bearer token has expired.")
        }
    }

    @Test("a token for another audience or from another issuer is a 401")
    func wrongAudienceOrIssuer() async throws {
        try await withApp { client, _ in
            let secret = TestEnvironment.jwtSecret
            let otherAudience = await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "aftercare", audience: "crm"))
            var (status, detail) = try await call(client, token: try await otherAudience.sign(subject: "g-1", role: .guide))
            #expect(status == .unauthorized)
            #expect(detail == "The bearer token is not meant for this platform.")
            let otherIssuer = await TokenAuthority(settings: try JWTSettings(secret: secret, issuer: "someone-else", audience: "aftercare"))
            (status, detail) = try await call(client, token: try await otherIssuer.sign(subject: "g-1", role: .guide))
            #expect(status == .unauthorized)
            #expect(detail == "The bearer token was not issued by this platform.")
        }
    }

    @Test("a role the route does not list is a 403")
    func wrongRole() async throws {
        try await withApp { client, tokens in
            for role in [Role.member, .technician, .dealerAdmin, .service] {
                let (status, detail) = try await call(client, token: try await tokens.sign(subject: "x", role: role))
                #expect(status == .forbidden)
                #expect(detail.contains(role.rawValue))
            }
        }
    }

    @Test("health and metrics need no token")
    func openOperationalRoutes() async throws {
        try await withApp { client, _ in
            for uri in ["/health/live", "/metrics"] {
                try await client.execute(uri: uri, method: .get) { response in #expect(response.status == .ok, "\(uri)") }
            }
        }
    }
}
