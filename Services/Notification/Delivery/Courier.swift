import AftercareContracts
import AftercareMessaging
import AftercarePersistence
import Foundation
import Logging
import Metrics
import PostgresNIO

/// Sends one planned delivery when its timer fires: through the channel's primary provider,
/// then its failover; records every attempt; retries timeouts and 5xx with back-off; gives
/// up at once on a 4xx and after the last attempt; publishes sent or failed.
struct Courier: Sendable {
    /// For the attempt records, which commit on their own (see `send`): a small pool of its
    /// own, run as a service of the application.
    let journal: PostgresClient
    let providers: ChannelProviders
    let outbox: Outbox
    let settings: NotificationSettings
    let clock: any BusinessClock
    let logger: Logger

    /// A delivery as the courier needs it, with the recipient's current contact.
    private struct Pending {
        let id: UUID
        let eventId: UUID
        let eventType: String
        let recipientId: String
        let recipientKind: RecipientKind
        let channel: MessageChannel
        let category: MessageCategory
        let templateKey: String
        let body: String
        let attempts: Int
        let phone: String?
        let allowed: Bool
        /// The recipient's wall clock and own quiet hours, for retries of non-critical messages.
        let timeZone: String?
        let quietHours: QuietHours?
    }

    func send(_ job: ScheduledJob, on connection: PostgresConnection) async throws {
        guard let id = UUID(uuidString: job.payload), let delivery = try await load(id, on: connection) else {
            logger.warning("send job names no open delivery", metadata: ["payload": "\(job.payload)"])
            return
        }
        // Preferences are read again at sending time: a member may have opted out while a
        // message waited out the night.
        guard delivery.allowed || delivery.category == .critical else {
            try await finish(delivery, status: "skipped", reason: "\(delivery.category.rawValue)_opted_out", on: connection)
            return
        }
        let address = delivery.channel == .sms ? delivery.phone : delivery.recipientId
        guard let address else {
            try await finish(delivery, status: "skipped", reason: "no_phone", on: connection)
            return
        }
        let message = OutgoingMessage(
            deliveryId: delivery.id,
            channel: delivery.channel,
            address: address,
            text: delivery.body,
            templateKey: delivery.templateKey
        )
        let attempt = delivery.attempts + 1
        var lastProblem = "no provider for \(delivery.channel.rawValue)"
        for provider in providers.chain(for: delivery.channel) {
            // Each call is on the delivery's record before it is made and with its outcome
            // after, committed apart from the job: should the job's transaction be lost (its
            // connection ended), the call is still there, and the retry sends the same key.
            let record = try await recordCalling(attempt: attempt, of: delivery, provider: provider.name)
            // The call and its outcome are seen through in a task of their own, which the job
            // being abandoned (its connection ended) does not cancel: the provider may have
            // sent the message, and the record must say what it answered.
            let outcome = try await Task { [self] in
                let started = ContinuousClock.now
                let outcome = await provider.send(message)
                try await recordOutcome(record, provider: provider.name, outcome: outcome, took: ContinuousClock.now - started)
                return outcome
            }.value
            switch outcome {
            case .accepted(let messageId):
                try await markSent(delivery, attempt: attempt, provider: provider.name, messageId: messageId, on: connection)
                return
            case .rejected(let code, let detail):
                try await fail(
                    deliveryId: delivery.id,
                    reason: "rejected by \(provider.name) (\(code)): \(detail)",
                    attempts: attempt,
                    on: connection
                )
                return
            case .retryable(_, let detail):
                lastProblem = "\(provider.name): \(detail)"
                logger.warning(
                    "provider failed, trying the next",
                    metadata: ["delivery_id": "\(delivery.id.lowercasedString)", "provider": "\(provider.name)", "problem": "\(detail)"]
                )
            }
        }
        guard attempt < settings.maxAttempts else {
            try await fail(
                deliveryId: delivery.id,
                reason: "gave up after \(attempt) attempts; last: \(lastProblem)",
                attempts: attempt,
                on: connection
            )
            return
        }
        var retryAt = clock.now().addingTimeInterval(settings.retryDelay(after: attempt))
        if delivery.category != .critical, delivery.channel != .inApp {
            // A retry is a new ring on the member's phone: it waits out the night too.
            let zone = delivery.timeZone.flatMap(TimeZone.init(checking:)) ?? settings.defaultTimeZone
            retryAt = (delivery.quietHours ?? settings.quietHours).release(of: retryAt, in: zone)
        }
        try await connection.query(
            "UPDATE deliveries SET attempts = \(attempt), status = 'pending', reason = \(String(lastProblem.prefix(300))), due_at = \(retryAt) WHERE id = \(delivery.id)",
            logger: logger
        )
        try await JobScheduler.schedule(
            kind: DeliveryPlanner.sendJob,
            dueAt: retryAt,
            payload: delivery.id.uuidString,
            uniqueKey: "send:\(delivery.id):\(attempt)",
            on: connection,
            logger: logger
        )
    }

    private func load(_ id: UUID, on connection: PostgresConnection) async throws -> Pending? {
        let rows = try await connection.query(
            """
            SELECT d.id, d.event_id, d.event_type, d.recipient_id, d.recipient_kind, d.channel, d.category, d.template_key, d.body, d.attempts,
                   coalesce(m.phone, s.phone),
                   CASE d.category WHEN 'service' THEN coalesce(m.service_consent AND NOT coalesce(p.service_opt_out, false), true)
                                   WHEN 'marketing' THEN coalesce(m.marketing_consent AND NOT coalesce(p.marketing_opt_out, false), true)
                                   ELSE true END,
                   coalesce(m.time_zone, st.time_zone), p.quiet_start, p.quiet_end
            FROM deliveries d
            LEFT JOIN members m ON d.recipient_kind = 'member' AND m.member_id = d.recipient_id
            LEFT JOIN preferences p ON d.recipient_kind = 'member' AND p.member_id = d.recipient_id
            LEFT JOIN staff s ON d.recipient_kind <> 'member' AND s.staff_id = d.recipient_id
            LEFT JOIN stores st ON st.store_id = d.store_id
            WHERE d.id = \(id) AND d.status IN ('pending', 'deferred')
            FOR NO KEY UPDATE OF d
            """,
            logger: logger
        )
        for try await row in rows {
            let (id, eventId, eventType, recipientId, kind, channel, category, template, body, attempts, phone, allowed, zone, quietStart, quietEnd) =
                try row.decode((UUID, UUID, String, String, String, String, String, String, String, Int, String?, Bool, String?, Int?, Int?).self)
            guard let kind = RecipientKind(rawValue: kind), let channel = MessageChannel(rawValue: channel),
                let category = MessageCategory(rawValue: category)
            else {
                return nil
            }
            return Pending(
                id: id,
                eventId: eventId,
                eventType: eventType,
                recipientId: recipientId,
                recipientKind: kind,
                channel: channel,
                category: category,
                templateKey: template,
                body: body,
                attempts: attempts,
                phone: phone,
                allowed: allowed,
                timeZone: zone,
                quietHours: quietStart.flatMap { start in quietEnd.map { QuietHours(start: start, end: $0) } }
            )
        }
        return nil
    }

    private func recordCalling(attempt: Int, of delivery: Pending, provider: String) async throws -> Int64 {
        let rows = try await journal.rows(
            """
            INSERT INTO delivery_attempts (delivery_id, attempt, provider, at, outcome, duration_ms)
            VALUES (\(delivery.id), \(attempt), \(provider), \(clock.now()), 'calling', 0) RETURNING id
            """,
            logger: logger
        )
        guard let id = try rows.first?.decode(Int64.self) else { throw AttemptNotRecorded() }
        return id
    }

    private func recordOutcome(_ record: Int64, provider: String, outcome: ProviderOutcome, took: Duration) async throws {
        let (result, code, detail): (String, Int?, String?) =
            switch outcome {
            case .accepted(let id): ("accepted", nil, id)
            case .retryable(let code, let detail): ("retryable", code, detail)
            case .rejected(let code, let detail): ("rejected", code, detail)
            }
        let milliseconds = Int(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000)
        try await journal.rows(
            "UPDATE delivery_attempts SET outcome = \(result), status_code = \(code), detail = \(detail), duration_ms = \(milliseconds) WHERE id = \(record)",
            logger: logger
        )
        Counter(label: "aftercare_notification_attempts_total", dimensions: [("provider", provider), ("outcome", result)]).increment()
    }

    struct AttemptNotRecorded: Error {}

    private func markSent(_ delivery: Pending, attempt: Int, provider: String, messageId: String?, on connection: PostgresConnection) async throws {
        let now = clock.now()
        try await connection.query(
            """
            UPDATE deliveries SET status = 'sent', reason = NULL, attempts = \(attempt), provider = \(provider), provider_message_id = \(messageId), sent_at = \(now)
            WHERE id = \(delivery.id)
            """,
            logger: logger
        )
        try await outbox.record(
            DeliverySent(
                deliveryId: delivery.id,
                eventId: delivery.eventId,
                eventType: delivery.eventType,
                recipientId: delivery.recipientId,
                channel: delivery.channel,
                provider: provider,
                attempts: attempt,
                sentAt: now
            ),
            aggregateID: delivery.id.uuidString.lowercased(),
            occurredAt: now,
            on: connection
        )
    }

    /// Marks a delivery failed (with its attempt count when a send just made one) and
    /// publishes the failure.
    func fail(deliveryId: UUID, reason: String, attempts: Int? = nil, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            """
            UPDATE deliveries SET status = 'failed', reason = \(reason), attempts = coalesce(\(attempts), attempts)
            WHERE id = \(deliveryId) AND status IN ('sent', 'pending', 'deferred')
            RETURNING event_id, event_type, recipient_id, channel, attempts
            """,
            logger: logger
        )
        for try await (eventId, eventType, recipientId, channel, attempts) in rows.decode((UUID, String, String, String, Int).self) {
            try await publishFailure(
                deliveryId,
                eventId: eventId,
                eventType: eventType,
                recipientId: recipientId,
                channel: MessageChannel(rawValue: channel) ?? .sms,
                reason: reason,
                attempts: attempts,
                on: connection
            )
        }
    }

    private func publishFailure(
        _ id: UUID,
        eventId: UUID,
        eventType: String,
        recipientId: String,
        channel: MessageChannel,
        reason: String,
        attempts: Int,
        on connection: PostgresConnection
    ) async throws {
        let now = clock.now()
        logger.warning(
            "delivery failed",
            metadata: ["delivery_id": "\(id.lowercasedString)", "channel": "\(channel.rawValue)", "reason": "\(reason)"]
        )
        try await outbox.record(
            DeliveryFailed(
                deliveryId: id,
                eventId: eventId,
                eventType: eventType,
                recipientId: recipientId,
                channel: channel,
                reason: String(reason.prefix(500)),
                attempts: attempts,
                failedAt: now
            ),
            aggregateID: id.uuidString.lowercased(),
            occurredAt: now,
            on: connection
        )
    }

    private func finish(_ delivery: Pending, status: String, reason: String, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE deliveries SET status = \(status), reason = \(reason) WHERE id = \(delivery.id)", logger: logger)
    }
}
