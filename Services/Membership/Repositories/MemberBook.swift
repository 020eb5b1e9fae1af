import AftercareContracts
import AftercarePersistence
import AftercareRuntime
import Foundation
import PostgresNIO

/// Members: registration, lookup within the caller's scope, profile and tags.
struct MemberBook: Sendable {
    let dependencies: MembershipDependencies

    static let columns = """
        m.id, m.phone, m.name, m.birthday_month, m.birthday_day, m.birth_year, m.addresses::text AS addresses, m.service_consent,
        m.marketing_consent, m.tags, m.guide_id, m.store_id, m.dealer_id, m.referred_by, m.tier, m.points_balance, m.registered_at
        """

    struct Registered: Sendable {
        let member: MemberView
        let created: Bool
    }

    /// Registers a member, or returns the existing one with that phone unchanged.
    func register(_ request: Registration, by caller: Principal) async throws -> Registered {
        guard let phone = Phone(request.phone) else { throw ProblemDetails.validation(field: "phone", "is not a valid phone number") }
        return try await dependencies.transaction { connection in
            // A join sent twice (a double tap) waits here for the first and then finds it.
            try await TransactionLock.hold(phone.e164, in: .memberPhone, on: connection, logger: dependencies.logger)
            if let existing = try await member(where: "m.phone = $1", phone.e164, on: connection) {
                guard MemberScope.covers(caller, member: existing.placement) else {
                    throw ProblemDetails.conflict("This phone number already belongs to a member registered elsewhere.")
                }
                return Registered(member: existing.view(for: caller), created: false)
            }
            let binding = try await bind(request, caller: caller, on: connection)
            if let referrer = request.referredBy,
                try await member(where: "m.id = $1::uuid", referrer.uuidString, on: connection) == nil
            {
                throw ProblemDetails.validation(field: "referredBy", "is not a member")
            }
            let id = UUID()
            let now = dependencies.clock.now()
            let tier = try await TierBook(dependencies: dependencies).rules(on: connection).entryTier.name
            let addresses = String(decoding: try JSONEncoder().encode(request.addresses ?? []), as: UTF8.self)
            try await connection.query(
                """
                INSERT INTO members (id, phone, name, birthday_month, birthday_day, birth_year, addresses, service_consent, marketing_consent,
                                     guide_id, store_id, dealer_id, referred_by, registered_via, tier, registered_at, updated_at)
                VALUES (\(id), \(phone.e164), \(request.name ?? ""), \(request.birthday.map { Int16($0.month) }), \(request.birthday.map { Int16($0.day) }),
                        \(request.birthday?.year.map { Int16($0) }), \(addresses)::jsonb, \(request.serviceMessagesConsent), \(request.marketingConsent),
                        \(binding.guideId), \(binding.storeId), \(binding.dealerId), \(request.referredBy), \(binding.via), \(tier), \(now), \(now))
                """,
                logger: dependencies.logger
            )
            try await dependencies.outbox.record(
                MemberRegistered(
                    memberId: id.uuidString.lowercased(),
                    guideId: binding.guideId,
                    storeId: binding.storeId,
                    dealerId: binding.dealerId,
                    serviceMessagesConsent: request.serviceMessagesConsent,
                    marketingConsent: request.marketingConsent,
                    phone: phone.e164,
                    name: request.name,
                    referredBy: request.referredBy?.uuidString.lowercased(),
                    timeZone: binding.timeZone
                ),
                aggregateID: "member-\(id.uuidString.lowercased())",
                occurredAt: now,
                on: connection
            )
            guard let created = try await member(where: "m.id = $1::uuid", id.uuidString, on: connection) else {
                throw ProblemDetails(status: .internalServerError, detail: "The new member could not be read back.")
            }
            return Registered(member: created.view(for: caller), created: true)
        }
    }

    private struct Binding {
        let guideId: String
        let storeId: String
        let dealerId: String
        let timeZone: String
        let via: String
    }

    /// Who the new member is bound to: the invite code's guide, the registering guide, or the
    /// guide a manager names; always an active guide, and within the caller's scope. The
    /// guide's row is held (shared) until the member is written, so a departure running at
    /// the same moment hands this member over too, or comes after and finds them.
    private func bind(_ request: Registration, caller: Principal, on connection: PostgresConnection) async throws -> Binding {
        let guide: (field: String, query: PostgresQuery, via: String)
        if let code = request.inviteCode {
            guide = (
                "inviteCode",
                "SELECT s.id, s.store_id, s.dealer_id, st.time_zone, s.status FROM staff s JOIN stores st ON st.id = s.store_id WHERE s.invite_code = \(InviteCode.normalise(code)) FOR SHARE OF s",
                "invite_code"
            )
        } else if caller.role == .guide {
            guide = (
                "guideId",
                "SELECT s.id, s.store_id, s.dealer_id, st.time_zone, s.status FROM staff s JOIN stores st ON st.id = s.store_id WHERE s.id = \(caller.subject) AND s.role = 'guide' FOR SHARE OF s",
                "staff"
            )
        } else if let guideId = request.guideId, caller.role != .service {
            guide = (
                "guideId",
                "SELECT s.id, s.store_id, s.dealer_id, st.time_zone, s.status FROM staff s JOIN stores st ON st.id = s.store_id WHERE s.id = \(guideId) AND s.role = 'guide' FOR SHARE OF s",
                "staff"
            )
        } else {
            throw ProblemDetails.validation(field: caller.role == .service ? "inviteCode" : "guideId", "is required to bind the member to a guide")
        }
        for try await (id, store, dealer, zone, status) in try await connection.query(guide.query, logger: dependencies.logger).decode(
            (String, String, String, String, String).self
        ) {
            guard status == "active" else { throw ProblemDetails.validation(field: guide.field, "belongs to a guide who has left") }
            let inScope =
                switch caller.role {
                case .hqAdmin, .service: true
                case .dealerAdmin: caller.dealerID == dealer
                case .storeManager: caller.storeID == store
                case .guide: caller.subject == id
                case .member, .technician: false
                }
            guard inScope else { throw ProblemDetails.validation(field: guide.field, "is not a guide this caller can register members for") }
            return Binding(guideId: id, storeId: store, dealerId: dealer, timeZone: zone, via: guide.via)
        }
        throw ProblemDetails.validation(field: guide.field, "is not a known guide")
    }

    struct Row: Sendable {
        let placement: MemberPlacement
        let view: MemberView

        func view(for caller: Principal) -> MemberView {
            guard !MemberScope.seesFullPhone(caller) else { return view }
            return MemberView(
                id: view.id,
                phone: Phone.mask(view.phone),
                name: view.name,
                birthday: view.birthday,
                addresses: view.addresses,
                serviceMessagesConsent: view.serviceMessagesConsent,
                marketingConsent: view.marketingConsent,
                tags: view.tags,
                guideId: view.guideId,
                storeId: view.storeId,
                dealerId: view.dealerId,
                referredBy: view.referredBy,
                tier: view.tier,
                pointsBalance: view.pointsBalance,
                registeredAt: view.registeredAt
            )
        }
    }

    func member(where condition: String, _ value: String, lock: Bool = false, on connection: PostgresConnection) async throws -> Row? {
        var bindings = PostgresBindings()
        bindings.append(value)
        let sql = "SELECT \(Self.columns) FROM members m WHERE \(condition)\(lock ? " FOR UPDATE" : "")"
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: dependencies.logger) {
            return try Self.decode(row)
        }
        return nil
    }

    /// The member with this id if the caller may see them; otherwise not found.
    func visible(_ id: UUID, to caller: Principal, lock: Bool = false, on connection: PostgresConnection) async throws -> Row {
        guard let row = try await member(where: "m.id = $1::uuid", id.uuidString, lock: lock, on: connection),
            MemberScope.covers(caller, member: row.placement)
        else {
            throw ProblemDetails.notFound("No such member.")
        }
        return row
    }

    /// The member as this caller sees them (the phone masked where `MemberScope` says so).
    func view(of id: UUID, for caller: Principal) async throws -> MemberView {
        try await dependencies.transaction { try await visible(id, to: caller, on: $0).view(for: caller) }
    }

    static func decode(_ row: PostgresRow) throws -> Row {
        let columns = row.makeRandomAccess()
        let month = try columns["birthday_month"].decode(Int16?.self)
        let day = try columns["birthday_day"].decode(Int16?.self)
        let year = try columns["birth_year"].decode(Int16?.self)
        let addresses = try JSONDecoder().decode([Address].self, from: Data(try columns["addresses"].decode(String.self).utf8))
        let view = MemberView(
            id: try columns["id"].decode(UUID.self),
            phone: try columns["phone"].decode(String.self),
            name: try columns["name"].decode(String.self),
            birthday: month.flatMap { month in day.map { Birthday(month: Int(month), day: Int($0), year: year.map(Int.init)) } },
            addresses: addresses,
            serviceMessagesConsent: try columns["service_consent"].decode(Bool.self),
            marketingConsent: try columns["marketing_consent"].decode(Bool.self),
            tags: try columns["tags"].decode([String].self),
            guideId: try columns["guide_id"].decode(String?.self),
            storeId: try columns["store_id"].decode(String.self),
            dealerId: try columns["dealer_id"].decode(String.self),
            referredBy: try columns["referred_by"].decode(UUID?.self),
            tier: try columns["tier"].decode(String.self),
            pointsBalance: try columns["points_balance"].decode(Int64.self),
            registeredAt: try columns["registered_at"].decode(Date.self)
        )
        return Row(placement: MemberPlacement(id: view.id, guideId: view.guideId, storeId: view.storeId, dealerId: view.dealerId), view: view)
    }
}

extension TransactionLock.Space {
    /// A member's phone number.
    static let memberPhone = Self(42)
}
