import AftercareContracts
import AftercareMessaging
import Foundation
import PostgresNIO

/// The events a rule may name, with the variables a template for each may use: the
/// payload's fields, and the recipient's name. A test encodes a sample of every payload and
/// checks these lists against it, so they cannot drift from the contracts.
enum EventCatalog {
    /// Every template may address its recipient by name.
    static let recipientVariables: Set<String> = ["recipientName"]

    static let payloadFields: [String: [String]] = [
        MemberRegistered.eventType: [
            "memberId", "guideId", "storeId", "dealerId", "serviceMessagesConsent", "marketingConsent", "phone", "name", "referredBy", "timeZone",
        ],
        MemberGuideReassigned.eventType: ["memberId", "fromGuideId", "toGuideId", "storeId"],
        PurchaseRecorded.eventType: ["orderId", "memberId", "storeId", "dealerId", "guideId", "amountCents", "items", "purchasedAt", "pointsEarned"],
        PointsChanged.eventType: ["memberId", "kind", "delta", "balance", "reference"],
        PointsExpiring.eventType: ["memberId", "points", "expiresAt", "daysBefore"],
        PointsExpired.eventType: ["memberId", "points", "balance", "clearedAt"],
        TierChanged.eventType: ["memberId", "fromTier", "toTier", "reason", "qualifyingSpendCents"],
        BirthdayMonthStarted.eventType: ["memberId", "year", "month", "day"],
        BirthdayToday.eventType: ["memberId", "year", "month", "day"],
        ComplaintOpened.eventType: ["complaintId", "memberId", "storeId", "dealerId", "channel", "category", "severity", "openedAt"],
        ComplaintResolved.eventType: ["complaintId", "memberId", "storeId", "dealerId", "resolution", "resolvedBy", "resolvedAt", "closesAt"],
        CallbackCreated.eventType: [
            "taskId", "complaintId", "memberId", "storeId", "dealerId", "level", "assigneeId", "dueAt", "category", "severity",
        ],
        CallbackEscalated.eventType: ["taskId", "complaintId", "memberId", "storeId", "dealerId", "fromLevel", "toLevel", "assigneeId", "dueAt"],
        CallbackRetryDue.eventType: ["taskId", "complaintId", "memberId", "storeId", "dealerId", "level", "assigneeId", "attempts"],
        ReviewRequested.eventType: ["requestId", "orderId", "memberId", "storeId", "dealerId", "technicianIds", "expiresAt"],
        ServiceOrderCompleted.eventType: ["orderId", "memberId", "storeId", "dealerId", "serviceType", "technicianIds", "completedAt"],
        OfferMade.eventType: [
            "orderId", "seat", "technicianId", "memberId", "storeId", "dealerId", "serviceType", "startsAt", "expiresAt", "actorId", "reason",
        ],
        ServiceOrderDispatched.eventType: orderFields,
        ServiceOrderEnRoute.eventType: orderFields,
        CrewIncomplete.eventType: orderFields,
        BookingRefused.eventType: [
            "bookingId", "orderId", "memberId", "storeId", "dealerId", "serviceType", "startsAt", "couponCode", "actorId", "reason",
        ],
        CouponIssued.eventType: couponFields,
        CouponExpiring.eventType: couponFields,
        StoreEventMemberInvited.eventType: ["eventId", "name", "memberId", "storeId", "startsAt", "endsAt", "invitedBy"],
    ]

    /// Every issued coupon's event has one shape (`CouponChange`).
    private static let couponFields = [
        "code", "templateId", "kind", "title", "memberId", "storeId", "dealerId", "validUntil", "bookingId", "actorId", "reason",
    ]

    /// Every service order event has one shape (`OrderChange`).
    private static let orderFields = [
        "orderId", "bookingId", "memberId", "storeId", "dealerId", "serviceType", "startsAt", "endsAt", "technicianIds", "couponCode", "actorId",
        "reason",
    ]

    static func variables(of eventType: String) -> Set<String>? {
        payloadFields[eventType].map { Set($0).union(recipientVariables) }
    }

    /// What a message handler gets from any catalogued event: its metadata and its payload's
    /// fields as text (dates stay ISO 8601 until rendered for a recipient's time zone).
    struct Facts: Sendable {
        let metadata: EventMetadata
        let fields: [String: String]

        subscript(_ name: String) -> String? { fields[name].flatMap { $0.isEmpty ? nil : $0 } }
    }

    static func facts<P: EventPayload>(_ event: EventEnvelope<P>) throws -> Facts {
        Facts(metadata: event.metadata, fields: try fields(of: event.payload))
    }

    /// Subscribes `handle` to every catalogued event type.
    static func subscribe(_ subscriptions: inout EventSubscriptions, _ handle: @escaping @Sendable (Facts, PostgresConnection) async throws -> Void) {
        func on<P: EventPayload>(_ type: P.Type) {
            subscriptions.on(type) { event, connection in
                try await handle(try facts(event), connection)
            }
        }
        on(PurchaseRecorded.self)
        on(PointsChanged.self)
        on(PointsExpiring.self)
        on(PointsExpired.self)
        on(TierChanged.self)
        on(BirthdayMonthStarted.self)
        on(BirthdayToday.self)
        on(ComplaintOpened.self)
        on(ComplaintResolved.self)
        on(CallbackCreated.self)
        on(CallbackEscalated.self)
        on(CallbackRetryDue.self)
        on(ReviewRequested.self)
        on(ServiceOrderCompleted.self)
        on(OfferMade.self)
        on(ServiceOrderDispatched.self)
        on(ServiceOrderEnRoute.self)
        on(CrewIncomplete.self)
        on(BookingRefused.self)
        on(CouponIssued.self)
        on(CouponExpiring.self)
        on(StoreEventMemberInvited.self)
    }

    /// The payload's top-level fields as text: strings as they are, numbers and flags
    /// printed, lists of strings joined; nested objects are left out.
    static func fields<P: EventPayload>(of payload: P) throws -> [String: String] {
        let object = try JSONDecoder().decode([String: FieldValue].self, from: try EventCoding.encoder().encode(payload))
        return object.compactMapValues(\.text)
    }

    /// One JSON value, read only as far as a template needs it.
    private enum FieldValue: Decodable {
        case text(String)
        case list([String])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .text(flag ? "true" : "false")
            } else if let whole = try? container.decode(Int64.self) {
                self = .text(String(whole))
            } else if let number = try? container.decode(Double.self) {
                self = .text(String(number))
            } else if let string = try? container.decode(String.self) {
                self = .text(string)
            } else if let strings = try? container.decode([String].self) {
                self = .list(strings)
            } else {
                self = .other
            }
        }

        var text: String? {
            switch self {
            case .text(let value): value
            case .list(let values): values.joined(separator: ", ")
            case .other: nil
            }
        }
    }
}
