import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Coupons over HTTP: staff gift one to a member in their scope, anyone in scope looks a code
/// up (failed lookups are counted per caller and slowed down), the desk redeems a code
/// exactly once and its store manager can undo that within the window, and a member or staff
/// read a member's coupons.
struct CouponDesk: Sendable {
    let database: PostgresClient
    let directory: Directory
    let issuer: Issuer
    let settings: CouponSettings
    let logger: Logger
    var coupons: Coupons { issuer.coupons }
    var clock: any BusinessClock { issuer.clock }

    struct Listing: ResponseCodable, Sendable {
        let coupons: [Coupons.Coupon]
        /// Pass as `after` for the next page; absent on the last one.
        let next: String?
    }

    /// Where a page ends: the last coupon's issue time (microseconds since 1970) and code.
    struct Cursor: Sendable, Equatable {
        let issuedMicros: Int64
        let code: String

        init(issuedMicros: Int64, code: String) {
            self.issuedMicros = issuedMicros
            self.code = code
        }

        init?(_ text: String) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count <= 17, parts[0].allSatisfy(\.isASCII), let micros = Int64(parts[0]), micros >= 0,
                case .wellFormed(let code) = CouponCode.read(String(parts[1]))
            else { return nil }
            (issuedMicros, self.code) = (micros, code)
        }

        var text: String { "\(issuedMicros).\(code)" }
    }

    /// The instant `micros` (a bigint parameter) stands for, in integer arithmetic (exactly the
    /// issue time it came from): a constant the scope's `(…, issued_at)` index can range over.
    static func instant(_ micros: String) -> String {
        "'epoch'::timestamptz + (\(micros)::bigint / 1000000) * interval '1 second' + (\(micros)::bigint % 1000000) * interval '1 microsecond'"
    }

    func issue(_ request: IssueRequest, by caller: Principal, idempotencyKey: String?) async throws -> (Coupons.Coupon, created: Bool) {
        guard [.hqAdmin, .dealerAdmin, .storeManager, .guide].contains(caller.role) else {
            throw ProblemDetails.forbidden("Only staff issue coupons.")
        }
        return try await database.transaction(logger: logger) { connection in
            guard let member = try await directory.member(request.memberId, on: connection), caller.covers(member) else {
                throw ProblemDetails.validation(field: "memberId", "is not a member you serve")
            }
            let order = Issuer.Order(
                templateId: request.templateId,
                member: member,
                actor: caller.subject,
                role: caller.role,
                why: request.note.map { "gift: \($0)" } ?? "gift",
                key: idempotencyKey.map { "request/\(caller.subject)/\($0)" }
            )
            return try await issuer.issue(order, on: connection)
        }
    }

    /// A code as a person typed it: a mistyped one (bad check character) is told apart from
    /// one that is not a code; an unknown code and another dealer's answer the same 404, and
    /// every failure counts against the caller.
    func lookup(_ text: String, by caller: Principal) async throws -> Coupons.Coupon {
        try await refuseIfGuessing(caller)
        let code = try await read(text, by: caller)
        let found = try await database.transaction(logger: logger) { connection -> Coupons.Coupon? in
            guard var coupon = try await coupons.load(code, lock: false, on: connection), sees(caller, coupon) else { return nil }
            coupon.history = try await coupons.history(code, on: connection)
            return coupon
        }
        guard let found else {
            try await countFailure(caller)
            throw ProblemDetails.notFound("No such coupon.")
        }
        return found
    }

    /// At the caller's own store, for the member in front of them. Exactly once: the coupon
    /// is read and checked, then redeemed by a statement that holds only while it is still
    /// active; a second redemption learns when and where the first was.
    func redeem(_ text: String, memberId: String, by caller: Principal) async throws -> Coupons.Coupon {
        guard let storeId = Access.deskStore(caller), let dealerId = caller.dealerID else {
            throw ProblemDetails.forbidden("Coupons are redeemed by a store's manager or guide, at their store.")
        }
        let code: String
        if case .wellFormed(let wellFormed) = CouponCode.read(text) {
            code = wellFormed
        } else {
            // Not a code: refused (and counted) before anything is read, as a lookup refuses it.
            try await refuseIfGuessing(caller)
            code = try await read(text, by: caller)
        }
        // One read: the caller's failed lookups, the coupon and its history.
        let since = clock.now().addingTimeInterval(-settings.lookupWindow)
        let view = try await coupons.deskView(code, caller: caller.subject, failuresSince: since, on: database)
        try refuseIfGuessing(failures: view.failures, oldest: view.oldestFailure, since: since)
        guard var coupon = view.coupon, sees(caller, coupon) else {
            try await countFailure(caller)
            throw ProblemDetails.notFound("No such coupon.")
        }
        try await checkRedeemable(coupon, memberId: memberId, storeId: storeId, dealerId: dealerId)
        let now = clock.now()
        guard try await coupons.redeem(coupon, memberId: memberId, storeId: storeId, actor: caller.subject, at: now, on: database) else {
            // Something came first: say what (a coupon that is not active always fails the check).
            if let current = try await coupons.deskView(code, caller: caller.subject, failuresSince: since, on: database).coupon {
                try await checkRedeemable(current, memberId: memberId, storeId: storeId, dealerId: dealerId)
            }
            throw ProblemDetails.conflict("This coupon cannot be redeemed now.")
        }
        coupon.status = .redeemed
        let entry = Coupons.Entry(at: now, kind: CouponRedeemedKind.eventType, actor: caller.subject, storeId: storeId, bookingId: nil, detail: nil)
        coupon.history = (coupon.history ?? []) + [entry]
        return coupon
    }

    private func checkRedeemable(
        _ coupon: Coupons.Coupon,
        memberId: String,
        storeId: String,
        dealerId: String
    ) async throws {
        switch coupon.status {
        case .redeemed:
            let rows = try await database.rows(
                "SELECT store_id, redeemed_at FROM redemptions WHERE code = \(coupon.code) AND undone_at IS NULL ORDER BY redeemed_at DESC LIMIT 1",
                logger: logger
            )
            let (store, at) = try rows.first?.decode((String, Date).self) ?? ("?", coupon.issuedAt)
            throw ProblemDetails.conflict("Already redeemed at store \(store) on \(at.formatted(.iso8601)).")
        case .reserved: throw ProblemDetails.conflict("Reserved for a booked visit; it is used by that visit.")
        case .consumed: throw ProblemDetails.conflict("Already used for a service visit.")
        case .expired: throw ProblemDetails.conflict("Expired on \(coupon.validUntil.formatted(.iso8601)).")
        case .active: break
        }
        if coupon.terms.kind == .freeService {
            throw ProblemDetails.validation(field: "code", "is a free service coupon: the member books the visit with it")
        }
        if coupon.memberId != memberId { throw ProblemDetails.validation(field: "memberId", "is not the member this coupon was issued to") }
        if clock.now() < coupon.validFrom { throw ProblemDetails.conflict("Valid from \(coupon.validFrom.formatted(.iso8601)).") }
        if !coupon.terms.honours(storeId: storeId, dealerId: dealerId) { throw ProblemDetails.conflict("This coupon is not honoured at this store.") }
    }

    /// The store's manager takes back a desk redemption made at their store, within the
    /// window, once.
    func undo(_ text: String, reason: String, by caller: Principal) async throws -> Coupons.Coupon {
        guard caller.role == .storeManager, let storeId = caller.storeID else {
            throw ProblemDetails.forbidden("A redemption is undone by the manager of the store that made it.")
        }
        let code = try await read(text, by: caller)
        return try await database.transaction(logger: logger) { connection in
            guard var coupon = try await coupons.load(code, lock: true, on: connection), sees(caller, coupon) else {
                throw ProblemDetails.notFound("No such coupon.")
            }
            let rows = try await connection.query(
                """
                SELECT id, store_id, redeemed_at, undone_at, undone_by FROM redemptions WHERE code = \(code) ORDER BY redeemed_at DESC LIMIT 1
                """,
                logger: logger
            )
            guard let (id, store, at, undoneAt, undoneBy) = try await rows.collect().first?.decode((UUID, String, Date, Date?, String?).self) else {
                throw ProblemDetails.conflict("This coupon has not been redeemed.")
            }
            if let undoneAt {
                throw ProblemDetails.conflict("Its redemption was already undone by \(undoneBy ?? "?") on \(undoneAt.formatted(.iso8601)).")
            }
            guard coupon.status == .redeemed else { throw ProblemDetails.conflict("This coupon has not been redeemed.") }
            guard store == storeId else { throw ProblemDetails.forbidden("It was redeemed at store \(store); its manager undoes it.") }
            let now = clock.now()
            guard now.timeIntervalSince(at) <= settings.undoWindow else {
                throw ProblemDetails.conflict(
                    "A redemption can be undone within \(Int(settings.undoWindow / 60)) minutes; this one was on \(at.formatted(.iso8601))."
                )
            }
            try await connection.query(
                "UPDATE redemptions SET undone_at = \(now), undone_by = \(caller.subject), undo_reason = \(reason) WHERE id = \(id)",
                logger: logger
            )
            try await coupons.change(
                coupon,
                to: .active,
                as: CouponRedemptionUndoneKind.self,
                actor: caller.subject,
                storeId: storeId,
                detail: reason,
                on: connection
            )
            coupon.status = coupon.validUntil < now ? .expired : .active
            coupon.history = try await coupons.history(code, on: connection)
            return coupon
        }
    }

    /// A member's own coupons, or those of a member in the caller's scope; staff without a
    /// member see their scope's newest.
    func list(memberId: String?, status: Coupons.Status?, after: Cursor? = nil, limit: Int = 200, by caller: Principal) async throws -> Listing {
        let member = caller.role == .member ? caller.subject : memberId
        let now = clock.now()
        // $1 is the caller's scope: themselves, their store or their dealer. Every statement
        // names all three parameters (PostgreSQL refuses a bind it does not use), hence the
        // `IS NOT NULL` terms where HQ has no scope and where no status filter reads $3.
        // $4 and $5 are where the previous page ended (keyset paging, newest first).
        let (scope, within): (String, String)
        switch caller.role {
        case .member: (scope, within) = ("member_id = $1", caller.subject)
        case .guide: (scope, within) = ("member_id IN (SELECT m.member_id FROM members m WHERE m.guide_id = $1)", caller.subject)
        case .storeManager: (scope, within) = ("store_id = $1", caller.storeID ?? "")
        case .dealerAdmin: (scope, within) = ("dealer_id = $1", caller.dealerID ?? "")
        case .hqAdmin, .service: (scope, within) = ("$1::text IS NOT NULL", "")
        case .technician: throw ProblemDetails.forbidden("Technicians do not see coupons.")
        }
        var bindings = PostgresBindings()
        bindings.append(within)
        bindings.append(member)
        bindings.append(now)
        bindings.append(after?.issuedMicros)
        bindings.append(after?.code)
        // An active coupon past its validity reads (and filters as) expired.
        let filter: String
        switch status {
        case nil: filter = "true"
        case .active?: filter = "status = 'active' AND valid_until >= $3"
        case .expired?: filter = "(status = 'expired' OR (status = 'active' AND valid_until < $3))"
        case let other?: filter = "status = '\(other.rawValue)'"
        }
        let end = Self.instant("$4")
        let rows = try await database.rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Coupons.columns) FROM coupons
                    WHERE \(scope) AND ($2::text IS NULL OR member_id = $2) AND \(filter) AND $3::timestamptz IS NOT NULL
                      AND ($4::bigint IS NULL OR (issued_at <= \(end) AND (issued_at < \(end) OR code < $5::text)))
                    ORDER BY issued_at DESC, code DESC LIMIT \(limit)
                    """,
                binds: bindings
            ),
            logger: logger
        )
        let coupons = try rows.map { try Coupons.coupon($0, now: now) }
        let last = coupons.count == limit ? coupons.last : nil
        let next = last.map { Cursor(issuedMicros: Int64(($0.issuedAt.timeIntervalSince1970 * 1_000_000).rounded()), code: $0.code).text }
        return Listing(coupons: coupons, next: next)
    }

    /// Whether the caller may see this coupon: its member is in their scope, or the caller
    /// works a desk of the member's dealer (a member of another store may bring it; the desk
    /// then learns whether its store honours it).
    func sees(_ caller: Principal, _ coupon: Coupons.Coupon) -> Bool {
        if caller.covers(coupon.placement) { return true }
        return Access.deskStore(caller) != nil && caller.dealerID == coupon.dealerId
    }

    private func read(_ text: String, by caller: Principal) async throws -> String {
        switch CouponCode.read(text) {
        case .wellFormed(let code): return code
        case .mistyped:
            try await countFailure(caller)
            throw ProblemDetails.validation(field: "code", "does not check out: a character is mistyped; compare it with the coupon")
        case .malformed:
            try await countFailure(caller)
            throw ProblemDetails.validation(field: "code", "must be 12 letters and digits as printed on the coupon")
        }
    }

    /// Refuses a caller whose failed lookups in the window reached the limit, until the
    /// oldest of them leaves the window.
    private func refuseIfGuessing(_ caller: Principal) async throws {
        let since = clock.now().addingTimeInterval(-settings.lookupWindow)
        let rows = try await database.rows(
            "SELECT coalesce(sum(failures), 0)::int, min(minute) FROM lookup_failures WHERE caller = \(caller.subject) AND minute >= \(since)",
            logger: logger
        )
        guard let (failures, oldest) = try rows.first?.decode((Int, Date?).self) else { return }
        try refuseIfGuessing(failures: failures, oldest: oldest, since: since)
    }

    private func refuseIfGuessing(failures: Int, oldest: Date?, since: Date) throws {
        guard failures >= settings.lookupFailures else { return }
        var problem = ProblemDetails(status: .tooManyRequests, detail: "Too many codes that did not match; wait before trying again.")
        let wait = (oldest ?? since).addingTimeInterval(settings.lookupWindow + 60).timeIntervalSince(clock.now())
        problem.retryAfterSeconds = max(1, Int(min(wait, settings.lookupWindow + 60)))
        throw problem
    }

    private func countFailure(_ caller: Principal) async throws {
        let minute = Date(timeIntervalSince1970: (clock.now().timeIntervalSince1970 / 60).rounded(.down) * 60)
        try await database.rows(
            """
            INSERT INTO lookup_failures AS f (caller, minute, failures) VALUES (\(caller.subject), \(minute), 1)
            ON CONFLICT (caller, minute) DO UPDATE SET failures = f.failures + 1
            """,
            logger: logger
        )
    }
}

/// `POST /api/v1/coupons`: a template gifted to a member.
struct IssueRequest: ValidatedRequest, Sendable {
    let templateId: UUID
    let memberId: String
    let note: String?

    func validate() -> [FieldProblem] {
        var problems = validateCode(memberId, field: "memberId")
        if let note, note.count > 200 { problems.append(.init(field: "note", message: "must be at most 200 characters")) }
        return problems
    }
}

/// `POST /api/v1/coupons/{code}/redeem`.
struct RedeemRequest: ValidatedRequest, Sendable {
    let memberId: String
    func validate() -> [FieldProblem] { validateCode(memberId, field: "memberId") }
}

/// `POST /api/v1/coupons/{code}/undo-redemption`.
struct UndoRequest: ValidatedRequest, Sendable {
    let reason: String
    func validate() -> [FieldProblem] {
        (1...500).contains(reason.trimmingCharacters(in: .whitespaces).count) ? [] : [.init(field: "reason", message: "must be 1 to 500 characters")]
    }
}
