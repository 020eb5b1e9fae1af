import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// Reads every service's outbox, inbox and effect tables and counts, for what happened since
/// `since`: each event published to a service that subscribes to it and whether that service
/// applied it (its inbox), and per business key the effects expected and found. Passing means
/// nothing lost and nothing duplicated. The journey's test runs it after a walk; a fault
/// campaign runs it after its kills and restarts.
public struct EffectChecker: Sendable {
    /// One client per service (by name: membership, dispatch, …), for the checker's lifetime.
    let clients: [String: PostgresClient]
    /// Who consumes what: `(service, event type)`, as docker/rabbitmq/subscriptions lists it.
    public let subscriptions: [(service: String, eventType: String)]
    public let since: Date
    let logger: Logger

    /// Runs `body` with a checker over each service's database (URLs by service name), whose
    /// connections live as long as `body` runs.
    public static func with<T>(
        databases: [String: String],
        subscriptions: [(service: String, eventType: String)],
        since: Date,
        logger: Logger,
        _ body: (EffectChecker) async throws -> T
    ) async throws -> T {
        var clients: [String: PostgresClient] = [:]
        for (service, url) in databases {
            clients[service] = PostgresClient(
                configuration: try DatabaseURL.configuration(from: url, maximumConnections: 1),
                backgroundLogger: logger
            )
        }
        let checker = EffectChecker(clients: clients, subscriptions: subscriptions, since: since, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients.values { group.addTask { await client.run() } }
            defer { group.cancelAll() }
            return try await body(checker)
        }
    }

    /// The counts once nothing is missing or duplicated, or as they are after `limit` (events
    /// still on their way get that long); `gatewayKeys` is read afresh for each count.
    public func settled(within limit: Duration, complaintKeys: [String] = [], gatewayKeys: () -> [String]?) async throws -> EffectReport {
        let deadline = ContinuousClock.now + limit
        var report = try await check(complaintKeys: complaintKeys, gatewayKeys: gatewayKeys())
        while !report.passed, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            report = try await check(complaintKeys: complaintKeys, gatewayKeys: gatewayKeys())
        }
        return report
    }

    /// The counts now; `complaintKeys` are the `Idempotency-Key`s of complaints the desk
    /// accepted; `gatewayKeys` the idempotency keys (delivery ids) an SMS gateway was called
    /// with, one per request, when the caller has its log.
    public func check(complaintKeys: [String] = [], gatewayKeys: [String]? = nil) async throws -> EffectReport {
        var flows: [EffectReport.Flow] = []
        let published = try await publishedEvents()
        for (service, eventType) in subscriptions {
            let sent = published.filter { $0.type == eventType && $0.producer != service }
            guard !sent.isEmpty else { continue }
            let applied = try await applied(by: service, sent.map(\.id))
            flows.append(.init(producer: sent[0].producer, consumer: service, eventType: eventType, published: sent.count, applied: applied))
        }
        var effects = try await reviewRequests() + (try await consumedCoupons())
        effects += try await complaints(keys: complaintKeys)
        effects.append(try await escalations())
        effects.append(try await notifications())
        effects.append(try await smsDeliveries(gatewayKeys: gatewayKeys))
        return EffectReport(flows: flows.sorted { ($0.consumer, $0.eventType) < ($1.consumer, $1.eventType) }, effects: effects)
    }

    struct Published {
        let id: UUID
        let type: String
        let producer: String
    }

    /// Events each service recorded since `since` (its relay publishes every one).
    private func publishedEvents() async throws -> [Published] {
        var events: [Published] = []
        for service in clients.keys.sorted() {
            for row in try await rows(service, "SELECT event_id, event_type FROM outbox WHERE created_at >= \(since)") {
                let (id, type) = try row.decode((UUID, String).self)
                events.append(Published(id: id, type: type, producer: service))
            }
        }
        return events
    }

    private func applied(by service: String, _ ids: [UUID]) async throws -> Int {
        let found = try await rows(service, "SELECT count(*) FROM inbox WHERE consumer = \(service) AND event_id = ANY(\(ids))")
        return try found.first?.decode(Int.self) ?? 0
    }

    /// One review request per order completed since `since`.
    private func reviewRequests() async throws -> [EffectReport.Effect] {
        let completed = try await rows("dispatch", "SELECT id::text FROM orders WHERE status = 'completed' AND updated_at >= \(since)")
        let orders = try completed.map { try $0.decode(String.self) }
        let found = try await rows(
            "feedback",
            "SELECT count(*), count(DISTINCT service_order_id) FROM review_requests WHERE service_order_id = ANY(\(orders))"
        )
        let (all, distinct) = try found.first?.decode((Int, Int).self) ?? (0, 0)
        return [.init(name: "review request per completed order", expected: orders.count, found: distinct, duplicated: all - distinct)]
    }

    /// One consumption per coupon booked into an order completed since `since`.
    private func consumedCoupons() async throws -> [EffectReport.Effect] {
        let booked = try await rows(
            "dispatch",
            """
            SELECT upper(b.coupon_code) FROM orders o JOIN bookings b ON b.id = o.booking_id
            WHERE o.status = 'completed' AND o.updated_at >= \(since) AND b.coupon_code IS NOT NULL
            """
        )
        let codes = try booked.map { try $0.decode(String.self) }
        let found = try await rows(
            "coupon",
            "SELECT count(*), count(DISTINCT code) FROM coupon_history WHERE kind = 'coupon.coupon.consumed' AND code = ANY(\(codes))"
        )
        let (all, distinct) = try found.first?.decode((Int, Int).self) ?? (0, 0)
        return [.init(name: "coupon consumed per completed visit", expected: codes.count, found: distinct, duplicated: all - distinct)]
    }

    /// One complaint per `Idempotency-Key` the desk accepted (a filing sent again after a fault
    /// is the same complaint; the filing names its key as its reference too), and one first
    /// callback task per complaint opened since `since`.
    private func complaints(keys: [String]) async throws -> [EffectReport.Effect] {
        var effects: [EffectReport.Effect] = []
        if !keys.isEmpty {
            let filed = try await rows(
                "feedback",
                "SELECT count(*), count(DISTINCT related_reference) FROM complaints WHERE related_reference = ANY(\(keys))"
            )
            let (all, distinct) = try filed.first?.decode((Int, Int).self) ?? (0, 0)
            effects.append(.init(name: "complaint per Idempotency-Key", expected: Set(keys).count, found: distinct, duplicated: all - distinct))
        }
        // A reopened complaint gets a task of its own; the first is the one filed with it.
        let tasks = try await rows(
            "feedback",
            """
            SELECT count(DISTINCT c.id), count(DISTINCT t.complaint_id), count(t.id)
            FROM complaints c LEFT JOIN callback_tasks t ON t.complaint_id = c.id AND t.created_at = c.opened_at
            WHERE c.opened_at >= \(since)
            """
        )
        let (opened, withTask, all) = try tasks.first?.decode((Int, Int, Int).self) ?? (0, 0, 0)
        effects.append(.init(name: "callback task per complaint", expected: opened, found: withTask, duplicated: all - withTask))
        return effects
    }

    /// One `feedback.callback.escalated` per rung a task left (the escalations table's rows):
    /// a second would page the next rung twice.
    private func escalations() async throws -> EffectReport.Effect {
        // Matched by task and rung, not by time: a rung climbed just as the check began has
        // its row and its event on either side of `since`.
        let found = try await rows(
            "feedback",
            """
            WITH rungs AS (SELECT lower(task_id::text) AS task, from_level FROM callback_escalations WHERE at >= \(since))
            SELECT (SELECT count(*) FROM rungs), count(o.event_id),
                   count(DISTINCT (r.task, r.from_level)) FILTER (WHERE o.event_id IS NOT NULL)
            FROM rungs r LEFT JOIN outbox o ON o.event_type = 'feedback.callback.escalated'
                AND lower(o.envelope::jsonb -> 'payload' ->> 'taskId') = r.task AND o.envelope::jsonb -> 'payload' ->> 'fromLevel' = r.from_level
            """
        )
        let (expected, all, distinct) = try found.first?.decode((Int, Int, Int).self) ?? (0, 0, 0)
        return .init(name: "escalation per rung", expected: expected, found: distinct, duplicated: all - distinct)
    }

    /// One delivery per event, recipient, channel and message (two rules may send one
    /// recipient two different messages for one event).
    private func notifications() async throws -> EffectReport.Effect {
        let found = try await rows(
            "notification",
            "SELECT count(*), count(DISTINCT (event_id, recipient_id, channel, template_key)) FROM deliveries WHERE created_at >= \(since)"
        )
        let (all, distinct) = try found.first?.decode((Int, Int).self) ?? (0, 0)
        return .init(name: "message per event, recipient, channel", expected: distinct, found: distinct, duplicated: all - distinct)
    }

    /// Every SMS notification sent since `since` reached the gateway (with the gateway's log;
    /// without it, the deliveries alone). A retry carries the delivery's idempotency key, so
    /// a key the gateway saw twice is one SMS: a second SMS would be a second delivery.
    private func smsDeliveries(gatewayKeys: [String]?) async throws -> EffectReport.Effect {
        let sent = try await rows(
            "notification",
            "SELECT id::text FROM deliveries WHERE channel = 'sms' AND status = 'sent' AND provider <> 'sms-recorder' AND created_at >= \(since)"
        )
        let ids = Set(try sent.map { try $0.decode(String.self) })
        guard let gatewayKeys else { return .init(name: "SMS per delivery sent", expected: ids.count, found: ids.count, duplicated: 0) }
        let requested = Set(gatewayKeys.filter { ids.contains($0) })
        return .init(name: "SMS per delivery sent", expected: ids.count, found: requested.count, duplicated: 0)
    }

    private func rows(_ service: String, _ query: PostgresQuery) async throws -> [PostgresRow] {
        guard let client = clients[service] else { throw MissingDatabase(service: service) }
        do {
            return try await client.rows(query, logger: logger)
        } catch let error as PSQLError {
            throw QueryFailed(service: service, sql: query.sql, detail: String(reflecting: error))
        }
    }

    public struct QueryFailed: Error, CustomStringConvertible {
        let service: String
        let sql: String
        let detail: String
        public var description: String { "\(service): \(sql): \(detail)" }
    }

    public struct MissingDatabase: Error, CustomStringConvertible {
        let service: String
        public var description: String { "no database URL for \(service)" }
    }
}

/// Published and applied per flow, expected and found per business key.
public struct EffectReport: Sendable {
    public struct Flow: Sendable {
        public let producer: String
        public let consumer: String
        public let eventType: String
        public let published: Int
        public let applied: Int
        /// Published to a subscriber that has not applied it (lost, or dead-lettered).
        public var missing: Int { published - applied }
    }

    public struct Effect: Sendable {
        public let name: String
        public let expected: Int
        public let found: Int
        public let duplicated: Int
    }

    public let flows: [Flow]
    public let effects: [Effect]

    public var lost: Int { flows.map(\.missing).reduce(0, +) + effects.map { max(0, $0.expected - $0.found) }.reduce(0, +) }
    public var duplicated: Int { effects.map(\.duplicated).reduce(0, +) }
    public var passed: Bool { lost == 0 && duplicated == 0 }

    public var table: String {
        var text = "events published → applied by each subscriber\n"
        for flow in flows {
            let name = "\(flow.producer) → \(flow.consumer)  \(flow.eventType)"
            text += name.padding(toLength: max(60, name.count), withPad: " ", startingAt: 0)
            text += "  \(flow.published) → \(flow.applied)\(flow.missing == 0 ? "" : "  MISSING \(flow.missing)")\n"
        }
        text += "\neffects: expected / found / duplicated\n"
        for effect in effects {
            text += effect.name.padding(toLength: 44, withPad: " ", startingAt: 0) + "  \(effect.expected) / \(effect.found) / \(effect.duplicated)\n"
        }
        text += "\nlost \(lost), duplicated \(duplicated): \(passed ? "pass" : "FAIL")\n"
        return text
    }
}
