import AftercareMessaging
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import Testing

@testable import FeedbackService

@Suite("The feedback OpenAPI document matches the routes", .timeLimit(.minutes(3)))
struct FeedbackOpenAPITests {
    @Test("every registered route is documented, every documented route exists, and each says what it returns")
    func documentMatchesRouter() async throws {
        let configuration = try TestEnvironment.configuration(service: .feedback, databaseURL: "postgres://nobody@127.0.0.1:1/none")
        // With the service's own subscriptions, so the dead-letter routes of its consumer exist.
        let invitations = ReviewInvitations(
            outbox: Outbox(producer: "feedback", logger: TestEnvironment.logger),
            settings: FeedbackSettings(),
            logger: TestEnvironment.logger
        )
        let subscriptions = FeedbackSubscriptions.make(directory: Directory(logger: TestEnvironment.logger), invitations: invitations)
        let platform = await ServicePlatform(configuration: configuration, migrations: [], subscriptions: subscriptions)
        let (router, _) = buildRouter(platform: platform, settings: FeedbackSettings())
        let document = try OpenAPIDocument.load(from: FeedbackOpenAPI.bundle, consumesEvents: true)
        let comparison = try OpenAPIComparison(document: document.json, router: router)
        #expect(comparison.version.hasPrefix("3.1"))
        #expect(comparison.silent == [], "operations that say nothing")
        #expect(comparison.missing == [], "routes missing from the document")
        #expect(comparison.extra == [], "documented routes the service does not have")
        #expect(comparison.registeredCount >= 20)
        #expect(
            try BrokerSubscriptions.listed(for: "feedback") == subscriptions.eventTypes,
            "docker/rabbitmq/subscriptions lists what feedback binds"
        )
    }

    @Test("the service serves the document")
    func served() async throws {
        try await FeedbackFixture.with { fixture in
            try await fixture.app().test(.router) { client in
                try await client.execute(uri: "/openapi.json", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == "application/json")
                    let document = try OpenAPIDocument.load(from: FeedbackOpenAPI.bundle, consumesEvents: true)
                    #expect(String(buffer: response.body) == document.json)
                }
            }
        }
    }
}
