import AftercareContracts
import AftercarePersistence
import Foundation
import Logging
import PostgresNIO

/// Turns one event into deliveries: for each enabled rule of its type, the recipient, the
/// text in their language, and per channel whether and when it may go out. Runs inside the
/// consumer's inbox transaction, so a redelivered event plans nothing twice; the unique key
/// on deliveries guards the same (event, recipient, channel, message) once more.
struct DeliveryPlanner: Sendable {
    static let sendJob = "notification.send"

    /// The event names a person the projections have not heard of yet (events from two
    /// services can cross on the way): the consumer retries with back-off, then dead-letters.
    struct RecipientUnknown: Error, CustomStringConvertible {
        let kind: RecipientKind
        let id: String
        var description: String { "\(kind.rawValue) \(id) is not known to notification yet" }
    }

    let recipients: Recipients
    let rules: RuleBook
    let settings: NotificationSettings
    let clock: any BusinessClock
    let logger: Logger

    func plan(_ facts: EventCatalog.Facts, on connection: PostgresConnection) async throws {
        for (rule, template) in try await rules.enabled(for: facts.metadata.type, on: connection) {
            guard let recipient = try await recipients.resolve(rule.recipient, for: facts, on: connection) else {
                if let id = try await namedRecipient(rule.recipient, in: facts, on: connection) {
                    throw RecipientUnknown(kind: rule.recipient, id: id)
                }
                logger.info("rule has no recipient for this event", metadata: ["rule": "\(rule.id)", "event_id": "\(facts.metadata.eventID)"])
                continue
            }
            try await plan(rule: rule, template: template, for: recipient, facts: facts, on: connection)
        }
    }

    /// The person the event names for a recipient kind, if any: a member, an assignee, or the
    /// guide the member is bound to. A store without a manager names nobody.
    private func namedRecipient(_ kind: RecipientKind, in facts: EventCatalog.Facts, on connection: PostgresConnection) async throws -> String? {
        switch kind {
        case .member:
            return facts["memberId"]
        case .assignee:
            return facts["assigneeId"]
        case .technician:
            return facts["technicianId"]
        case .guide:
            guard let memberId = facts["memberId"] else { return nil }
            return try await recipients.member(memberId, on: connection)?.guideId
        case .storeManager:
            return nil
        }
    }

    private func plan(
        rule: Rule,
        template: MessageTemplate,
        for recipient: Recipient,
        facts: EventCatalog.Facts,
        on connection: PostgresConnection
    ) async throws {
        let now = clock.now()
        let timeZone = recipient.timeZone.flatMap(TimeZone.init(checking:)) ?? settings.defaultTimeZone
        let locale = recipient.locale ?? settings.defaultLocale
        let text = TemplateText.render(template.body(for: locale), with: MessageText.values(facts, recipient: recipient, timeZone: timeZone))
        var refusal = Self.refusal(rule.category, recipient)
        if refusal == nil, rule.category == .marketing,
            try await overDailyCap(recipient, besides: facts.metadata.eventID, timeZone: timeZone, now: now, on: connection)
        {
            refusal = "daily_cap"
        }
        let planned = rule.timing == .monthEnd ? MessageText.monthEnd(of: facts, in: timeZone, fallback: now) : now
        for channel in rule.channels {
            var status = "pending"
            var reason: String? = refusal
            var due = max(planned, now)
            if refusal != nil {
                status = "skipped"
            } else if channel == .sms, recipient.phone == nil {
                status = "skipped"
                reason = "no_phone"
            } else {
                if planned > now { reason = "month_end" }
                // The in-app inbox does not ring, so it needs no quiet hours.
                if rule.category != .critical, channel != .inApp {
                    let released = (recipient.quietHours ?? settings.quietHours).release(of: due, in: timeZone)
                    if released > due { reason = "quiet_hours" }
                    due = released
                }
                if due > now { status = "deferred" }
            }
            let id = UUID()
            let rows = try await connection.query(
                """
                INSERT INTO deliveries (id, event_id, event_type, rule_id, template_key, recipient_id, recipient_kind, store_id, dealer_id,
                                        channel, category, locale, body, status, reason, due_at, created_at)
                VALUES (\(id), \(facts.metadata.eventID), \(facts.metadata.type), \(rule.id), \(template.key), \(recipient.id), \(recipient.kind.rawValue),
                        \(recipient.storeId), \(recipient.dealerId), \(channel.rawValue), \(rule.category.rawValue), \(locale), \(text), \(status), \(reason), \(due), \(now))
                ON CONFLICT (event_id, recipient_id, channel, template_key) DO NOTHING
                RETURNING id
                """,
                logger: logger
            )
            var inserted = false
            for try await _ in rows { inserted = true }
            guard inserted, status != "skipped" else { continue }
            try await JobScheduler.schedule(
                kind: Self.sendJob,
                dueAt: due,
                payload: id.uuidString,
                uniqueKey: "send:\(id)",
                on: connection,
                logger: logger
            )
        }
    }

    /// Why a message of this category may not go to this recipient; nil when it may.
    /// Critical alerts go to staff whatever their preferences.
    static func refusal(_ category: MessageCategory, _ recipient: Recipient) -> String? {
        switch category {
        case .critical: nil
        case .service: recipient.serviceAllowed ? nil : "service_opted_out"
        case .marketing: recipient.marketingAllowed ? nil : "marketing_opted_out"
        }
    }

    /// Whether the member already has their day's share of marketing messages (counted per
    /// event, on their own calendar day), not counting this event's own other messages. The
    /// count and the writes after it are one member's at a time until the event's transaction
    /// ends: two events handled side by side (two lanes, two replicas) would each count the
    /// other's messages as not yet written.
    private func overDailyCap(
        _ recipient: Recipient,
        besides event: UUID,
        timeZone: TimeZone,
        now: Date,
        on connection: PostgresConnection
    ) async throws -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let dayStart = calendar.startOfDay(for: now)
        try await TransactionLock.hold(recipient.id, in: .marketingCap, on: connection, logger: logger)
        let rows = try await connection.query(
            """
            SELECT count(DISTINCT event_id) FROM deliveries
            WHERE recipient_id = \(recipient.id) AND category = 'marketing' AND status <> 'skipped' AND created_at >= \(dayStart) AND event_id <> \(event)
            """,
            logger: logger
        )
        var count = 0
        for try await value in rows.decode(Int.self) { count = value }
        return count >= settings.marketingDailyCap
    }
}

extension TransactionLock.Space {
    /// A member's daily share of marketing messages.
    static let marketingCap = Self(51)
}
