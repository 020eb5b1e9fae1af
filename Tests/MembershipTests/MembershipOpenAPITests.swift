import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
@testable import MembershipService
import Testing

@Suite("The membership OpenAPI document matches the routes")
struct MembershipOpenAPITests {
    struct Document: Decodable {
        let openapi: String
        let paths: [String: [String: Operation]]
    }

    struct Operation: Decodable {
        let summary: String
        let responses: [String: Reference]
    }

    struct Reference: Decodable {}

    @Test("every registered route is documented, every documented route exists, and each says what it returns")
    func documentMatchesRouter() async throws {
        let configuration = try TestEnvironment.configuration(service: .membership, databaseURL: "postgres://nobody@127.0.0.1:1/none")
        let platform = await ServicePlatform(configuration: configuration, migrations: [])
        let (router, _) = buildRouter(platform: platform, loyalty: LoyaltySettings())
        let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })

        let document = try JSONDecoder().decode(Document.self, from: Data(MembershipOpenAPI.document.utf8))
        #expect(document.openapi.hasPrefix("3.1"))
        var documented = Set<String>()
        for (path, operations) in document.paths {
            for (method, operation) in operations {
                documented.insert("\(method.uppercased()) \(path)")
                #expect(!operation.summary.isEmpty && !operation.responses.isEmpty, "\(method) \(path) says nothing")
            }
        }
        #expect(registered.subtracting(documented).sorted() == [], "routes missing from the document")
        #expect(documented.subtracting(registered).sorted() == [], "documented routes the service does not have")
        #expect(registered.count >= 20)
    }

    @Test("the service serves the document")
    func served() async throws {
        try await MembershipFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/openapi.json", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    #expect(String(buffer: response.body) == MembershipOpenAPI.document)
                }
            }
        }
    }
}
