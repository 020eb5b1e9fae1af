import AftercareAMQP
import AftercareMessaging
import AftercareTestSupport
import Foundation
import PostgresNIO
import Testing

/// Each service's broker user and database role may do its own work and nothing more, with
/// the permissions `scripts/run-tests` provisions (docker/rabbitmq/definitions.sh): a service
/// cannot forge another service's events, read another's queues or reach PostgreSQL's
/// maintenance database.
@Suite("Each service's credentials reach only its own things", .serialized, .timeLimit(.minutes(3)))
struct BrokerPermissionTests {
    /// A publisher logged in as `service`'s own broker user, connected.
    func publisher(as service: String) async throws -> AMQPPublisher {
        let url = try #require(try ServiceProcess.servicesEnvironment()["\(service.uppercased())_AMQP_URL"])
        let publisher = AMQPPublisher(
            settings: try AMQPSettings(url: url),
            name: "\(service)-probe",
            topology: EventBus.publisherTopology,
            logger: TestEnvironment.logger
        )
        publisher.start()
        try #require(await eventually(timeout: .seconds(20)) { publisher.isConnected }, "\(service) could not connect with its own credentials")
        return publisher
    }

    func message(exchange: String, routingKey: String) -> AMQPOutgoingMessage {
        AMQPOutgoingMessage(
            exchange: exchange,
            routingKey: routingKey,
            body: Array("{}".utf8),
            messageID: UUID().uuidString.lowercased(),
            type: routingKey
        )
    }

    /// The error of an operation the broker must refuse: 403 ACCESS_REFUSED.
    func expectRefused(_ what: String, _ operation: () async throws -> Void) async {
        do {
            try await operation()
            Issue.record("\(what) was allowed")
        } catch let AMQPError.channelClosed(code, text), let AMQPError.connectionClosed(code, text) {
            #expect(code == 403, "\(what): \(code) \(text)")
        } catch {
            Issue.record("\(what) failed otherwise: \(error)")
        }
    }

    @Test("a service publishes its own events, and is refused another service's routing key and the default exchange")
    func publishing() async throws {
        let coupon = try await publisher(as: "coupon")
        defer { Task { await coupon.shutdown() } }
        // An event type of its own that no service consumes: accepted, and routed nowhere.
        #expect(try await coupon.publish(message(exchange: EventBus.exchange, routingKey: "coupon.template.created")) == .unroutable)
        await expectRefused("coupon publishing membership.member.registered") {
            _ = try await coupon.publish(message(exchange: EventBus.exchange, routingKey: "membership.member.registered"))
        }
        let again = try await publisher(as: "coupon")
        defer { Task { await again.shutdown() } }
        await expectRefused("coupon publishing into feedback's queue through the default exchange") {
            _ = try await again.publish(message(exchange: "", routingKey: "feedback.events"))
        }
    }

    @Test("a service binds its queue to the events it consumes, and is refused any other binding key")
    func binding() async throws {
        let feedback = try await publisher(as: "feedback")
        defer { Task { await feedback.shutdown() } }
        let probe = "feedback.permission-probe-\(UUID().uuidString.lowercased().prefix(8).lowercased())"
        let admin = try await adminPublisher()
        defer {
            Task {
                try? await admin.deleteQueue(probe)
                await admin.shutdown()
            }
        }
        try await feedback.declare(
            AMQPTopology(
                queues: [.init(name: probe)],
                bindings: [.init(queue: probe, exchange: EventBus.exchange, routingKey: "dispatch.order.completed")]
            )
        )
        await expectRefused("feedback binding coupon.coupon.issued, which it does not consume") {
            try await feedback.declare(AMQPTopology(bindings: [.init(queue: probe, exchange: EventBus.exchange, routingKey: "coupon.coupon.issued")]))
        }
        let again = try await publisher(as: "feedback")
        defer { Task { await again.shutdown() } }
        await expectRefused("feedback binding every event with #") {
            try await again.declare(AMQPTopology(bindings: [.init(queue: probe, exchange: EventBus.exchange, routingKey: "#")]))
        }
        let third = try await publisher(as: "feedback")
        defer { Task { await third.shutdown() } }
        await expectRefused("feedback declaring a queue named for notification") {
            try await third.declare(AMQPTopology(queues: [.init(name: "notification.stolen-\(UUID().uuidString.lowercased().prefix(8))")]))
        }
    }

    @Test("a service cannot read another service's queue or dead letters")
    func reading() async throws {
        let admin = try await adminPublisher()
        let target = "notification.permission-probe-\(UUID().uuidString.lowercased().prefix(8).lowercased())"
        try await admin.declare(AMQPTopology(queues: [.init(name: target)]))
        defer {
            Task {
                try? await admin.deleteQueue(target)
                await admin.shutdown()
            }
        }
        let coupon = try await publisher(as: "coupon")
        defer { Task { await coupon.shutdown() } }
        await expectRefused("coupon reading a notification queue") { _ = try await coupon.peek(queue: target, limit: 1) }
        let again = try await publisher(as: "coupon")
        defer { Task { await again.shutdown() } }
        await expectRefused("coupon reading notification's dead letters") { _ = try await again.peek(queue: "notification.dead-letter", limit: 1) }
    }

    @Test("a service's database role connects to its own database only")
    func databaseRoles() async throws {
        let environment = try ServiceProcess.servicesEnvironment()
        let own = try #require(environment["COUPON_DATABASE_URL"])
        let answered = try await withRunningClient(try makeClient(url: own)) { client in
            try await client.query("SELECT current_database()", logger: TestEnvironment.logger).collect().first?.decode(String.self)
        }
        #expect(answered == "aftercare_coupon")
        for other in ["postgres", "aftercare_membership", "template1"] {
            let url = own.replacingOccurrences(of: "/aftercare_coupon?", with: "/\(other)?")
            let connected = await connects(url)
            #expect(!connected, "aftercare_coupon could connect to \(other)")
        }
    }

    /// Whether a single connection with `url` gets as far as a query.
    func connects(_ url: String) async -> Bool {
        guard let connection = try? await makeConnection(url: url) else { return false }
        defer { Task { try? await connection.close() } }
        return (try? await connection.query("SELECT 1", logger: TestEnvironment.logger)) != nil
    }

    /// A publisher logged in as the test broker's administrator, connected.
    func adminPublisher() async throws -> AMQPPublisher {
        let admin = AMQPPublisher(settings: try AMQPSettings(url: try TestEnvironment.amqpURL()), name: "admin-probe", logger: TestEnvironment.logger)
        admin.start()
        try #require(await eventually { admin.isConnected })
        return admin
    }
}
