import AftercareMessaging
import AftercarePersistence
import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import Testing

@testable import CouponService

@Suite("The coupon OpenAPI document matches the routes", .timeLimit(.minutes(3)))
struct CouponOpenAPITests {
    @Test("every registered route is documented, every documented route exists, and each says what it returns")
    func documentMatchesRouter() async throws {
        let configuration = try TestEnvironment.configuration(service: .coupon, databaseURL: "postgres://nobody@127.0.0.1:1/none")
        // With the service's own subscriptions, so the dead-letter routes of its consumer exist.
        let parts = CouponParts(
            outbox: Outbox(producer: "coupon", logger: TestEnvironment.logger),
            clock: SystemBusinessClock(),
            logger: TestEnvironment.logger
        )
        let subscriptions = CouponSubscriptions.make(parts)
        let platform = await ServicePlatform(configuration: configuration, migrations: [], subscriptions: subscriptions)
        let document = try OpenAPIDocument.load(from: CouponOpenAPI.bundle, consumesEvents: true)
        let comparison = try OpenAPIComparison(document: document.json, router: buildRouter(platform: platform))
        #expect(comparison.version.hasPrefix("3.1"))
        #expect(comparison.silent == [], "operations that say nothing")
        #expect(comparison.missing == [], "routes missing from the document")
        #expect(comparison.extra == [], "documented routes the service does not have")
        #expect(comparison.registeredCount >= 8)
        #expect(
            try BrokerSubscriptions.listed(for: "coupon") == subscriptions.eventTypes,
            "docker/rabbitmq/subscriptions lists what coupon binds"
        )
    }
}
