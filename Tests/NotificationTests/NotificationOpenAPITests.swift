import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import Testing

@testable import NotificationService

@Suite("The notification OpenAPI document matches the routes", .timeLimit(.minutes(3)))
struct NotificationOpenAPITests {
    @Test("every registered route is documented, every documented route exists, and each says what it returns")
    func documentMatchesRouter() async throws {
        let configuration = try TestEnvironment.configuration(service: .notification, databaseURL: "postgres://nobody@127.0.0.1:1/none")
        let recipients = Recipients(logger: TestEnvironment.logger)
        let planner = DeliveryPlanner(
            recipients: recipients,
            rules: RuleBook(logger: TestEnvironment.logger),
            settings: NotificationSettings(),
            clock: SystemBusinessClock(),
            logger: TestEnvironment.logger
        )
        let subscriptions = NotificationSubscriptions.make(recipients: recipients, planner: planner)
        let platform = await ServicePlatform(configuration: configuration, migrations: [], subscriptions: subscriptions)
        let (router, _) = buildRouter(platform: platform, settings: NotificationSettings())
        let document = try OpenAPIDocument.load(from: NotificationOpenAPI.bundle, consumesEvents: true)
        let comparison = try OpenAPIComparison(document: document.json, router: router)
        #expect(comparison.version.hasPrefix("3.1"))
        #expect(comparison.silent == [], "operations that say nothing")
        #expect(comparison.missing == [], "routes missing from the document")
        #expect(comparison.extra == [], "documented routes the service does not have")
        #expect(comparison.registeredCount >= 20)
        #expect(
            try BrokerSubscriptions.listed(for: "notification") == subscriptions.eventTypes,
            "docker/rabbitmq/subscriptions lists what notification binds"
        )
    }
}
