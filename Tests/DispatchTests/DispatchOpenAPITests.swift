import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import Testing

@testable import DispatchService

@Suite("The dispatch OpenAPI document matches the routes", .timeLimit(.minutes(3)))
struct DispatchOpenAPITests {
    @Test("every registered route is documented, every documented route exists, and each says what it returns")
    func documentMatchesRouter() async throws {
        let configuration = try TestEnvironment.configuration(service: .dispatch, databaseURL: "postgres://nobody@127.0.0.1:1/none")
        // With the service's own subscriptions, so the dead-letter routes of its consumer exist.
        let parts = DispatchParts(
            outbox: Outbox(producer: "dispatch", logger: TestEnvironment.logger),
            settings: .init(),
            clock: SystemBusinessClock(),
            logger: TestEnvironment.logger
        )
        let subscriptions = DispatchSubscriptions.make(directory: parts.directory, dispatcher: parts.dispatcher, bookings: parts.bookings)
        let platform = await ServicePlatform(configuration: configuration, migrations: [], subscriptions: subscriptions)
        let document = try OpenAPIDocument.load(from: DispatchOpenAPI.bundle, consumesEvents: true)
        let comparison = try OpenAPIComparison(document: document.json, router: buildRouter(platform: platform))
        #expect(comparison.version.hasPrefix("3.1"))
        #expect(comparison.silent == [], "operations that say nothing")
        #expect(comparison.missing == [], "routes missing from the document")
        #expect(comparison.extra == [], "documented routes the service does not have")
        #expect(comparison.registeredCount >= 20)
        #expect(
            try BrokerSubscriptions.listed(for: "dispatch") == subscriptions.eventTypes,
            "docker/rabbitmq/subscriptions lists what dispatch binds"
        )
    }
}
