import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import Testing

@testable import MembershipService

@Suite("The membership OpenAPI document matches the routes", .timeLimit(.minutes(3)))
struct MembershipOpenAPITests {
    @Test("every registered route is documented, every documented route exists, and each says what it returns")
    func documentMatchesRouter() async throws {
        let configuration = try TestEnvironment.configuration(service: .membership, databaseURL: "postgres://nobody@127.0.0.1:1/none")
        let platform = await ServicePlatform(configuration: configuration, migrations: [])
        let (router, _) = buildRouter(platform: platform, loyalty: LoyaltySettings())
        let document = try OpenAPIDocument.load(from: MembershipOpenAPI.bundle, consumesEvents: false)
        let comparison = try OpenAPIComparison(document: document.json, router: router)
        #expect(comparison.version.hasPrefix("3.1"))
        #expect(comparison.silent == [], "operations that say nothing")
        #expect(comparison.missing == [], "routes missing from the document")
        #expect(comparison.extra == [], "documented routes the service does not have")
        #expect(comparison.registeredCount >= 20)
    }

    @Test("the service serves the document")
    func served() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/openapi.json", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    let document = try OpenAPIDocument.load(from: MembershipOpenAPI.bundle, consumesEvents: false)
                    #expect(String(buffer: response.body) == document.json)
                }
            }
        }
    }
}
