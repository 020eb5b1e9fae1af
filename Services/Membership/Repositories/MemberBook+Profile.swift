import AftercareContracts
import AftercareRuntime
import Foundation
import Hummingbird
import PostgresNIO

extension MemberBook {
    /// Members themselves and staff within scope change the profile; only the fields present
    /// change, and the change is published with the current contact and consents.
    func update(_ id: UUID, _ change: ProfileChange, by caller: Principal) async throws -> MemberView {
        try await dependencies.transaction { connection in
            let current = try await visible(id, to: caller, lock: true, on: connection).view
            let name = change.name ?? current.name
            let birthday = change.birthday ?? current.birthday
            let service = change.serviceMessagesConsent ?? current.serviceMessagesConsent
            let marketing = change.marketingConsent ?? current.marketingConsent
            let addresses = String(decoding: try JSONEncoder().encode(change.addresses ?? current.addresses), as: UTF8.self)
            try await connection.query(
                """
                UPDATE members SET name = \(name), birthday_month = \(birthday.map { Int16($0.month) }), birthday_day = \(birthday.map { Int16($0.day) }),
                    birth_year = \(birthday?.year.map { Int16($0) }), addresses = \(addresses)::jsonb, service_consent = \(service),
                    marketing_consent = \(marketing), updated_at = \(dependencies.clock.now())
                WHERE id = \(id)
                """,
                logger: dependencies.logger
            )
            return try await published(id, changedFields: change.changedFields, on: connection).view(for: caller)
        }
    }

    /// Guides and store managers tag their members (e.g. "vip", "new-home").
    func setTags(_ id: UUID, _ change: TagsChange, by caller: Principal) async throws -> MemberView {
        guard [.guide, .storeManager, .dealerAdmin, .hqAdmin].contains(caller.role) else { throw ProblemDetails.forbidden("Only staff tag members.") }
        return try await dependencies.transaction { connection in
            _ = try await visible(id, to: caller, lock: true, on: connection)
            var seen = Set<String>()
            let tags = change.tags.map { $0.trimmingCharacters(in: .whitespaces) }.filter { seen.insert($0).inserted }
            try await connection.query(
                "UPDATE members SET tags = \(tags), updated_at = \(dependencies.clock.now()) WHERE id = \(id)",
                logger: dependencies.logger
            )
            return try await published(id, changedFields: ["tags"], on: connection).view(for: caller)
        }
    }

    /// Publishes the member as they are now and returns the row read for it.
    private func published(_ id: UUID, changedFields: [String], on connection: PostgresConnection) async throws -> Row {
        guard let row = try await member(where: "m.id = $1::uuid", id.uuidString, on: connection) else {
            throw ProblemDetails.notFound("No such member.")
        }
        let view = row.view
        try await dependencies.outbox.record(
            MemberUpdated(
                memberId: id.uuidString.lowercased(),
                phone: view.phone,
                name: view.name,
                serviceMessagesConsent: view.serviceMessagesConsent,
                marketingConsent: view.marketingConsent,
                tags: view.tags,
                changedFields: changedFields
            ),
            aggregateID: "member-\(id.uuidString.lowercased())",
            occurredAt: dependencies.clock.now(),
            on: connection
        )
        return row
    }

    struct Search: Sendable {
        var phone: String?
        var name: String?
        var guideId: String?
        var storeId: String?
        var tag: String?
        var limit = 50
        var cursor: String?
    }

    struct Page: ResponseCodable, Sendable {
        let members: [MemberView]
        /// Pass as `cursor` for the next page; absent on the last page.
        let nextCursor: String?
    }

    /// Members in the caller's scope matching every filter given, oldest registration first.
    func search(_ search: Search, by caller: Principal) async throws -> Page {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        func bind(_ condition: (Int) -> String, _ value: String) {
            bindings.append(value)
            conditions.append(condition(bindings.count))
        }
        if let scope = MemberScope.filter(for: caller) { bind({ _ in scope.condition }, scope.value) }
        if let raw = search.phone {
            guard let phone = Phone(raw) else { throw ProblemDetails.validation(field: "phone", "is not a valid phone number") }
            bind({ "m.phone = $\($0)" }, phone.e164)
        }
        if let name = search.name { bind({ "m.name ILIKE $\($0)" }, Self.likePrefix(name)) }
        if let guide = search.guideId { bind({ "m.guide_id = $\($0)" }, guide) }
        if let store = search.storeId { bind({ "m.store_id = $\($0)" }, store) }
        if let tag = search.tag { bind({ "m.tags @> ARRAY[$\($0)]::text[]" }, tag) }
        if let cursor = search.cursor {
            guard let (at, id) = Self.decodeCursor(cursor) else {
                throw ProblemDetails.validation(field: "cursor", "is not a cursor this service issued")
            }
            bindings.append(at)
            bindings.append(id)
            conditions.append("(m.registered_at, m.id) > ($\(bindings.count - 1), $\(bindings.count))")
        }
        guard (1...200).contains(search.limit) else { throw ProblemDetails.validation(field: "limit", "must be 1 to 200") }
        let sql =
            "SELECT \(Self.columns) FROM members m"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + " ORDER BY m.registered_at, m.id LIMIT \(search.limit + 1)"
        let query = PostgresQuery(unsafeSQL: sql, binds: bindings)
        return try await dependencies.transaction { connection in
            var rows: [Row] = []
            for try await row in try await connection.query(query, logger: dependencies.logger) {
                rows.append(try Self.decode(row))
            }
            let more = rows.count > search.limit
            let page = Array(rows.prefix(search.limit))
            return Page(
                members: page.map { $0.view(for: caller) },
                nextCursor: more ? page.last.map { Self.encodeCursor($0.view.registeredAt, $0.view.id) } : nil
            )
        }
    }

    /// `name%` with the pattern characters of the input escaped.
    static func likePrefix(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    static func encodeCursor(_ at: Date, _ id: UUID) -> String {
        let micros = Int64((at.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros),\(id.uuidString)".utf8).base64EncodedString()
    }

    static func decodeCursor(_ cursor: String) -> (Date, UUID)? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ",")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = EnvelopeReader.uuid(String(parts[1])) else { return nil }
        let at = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        return PlausibleDates.contains(at) ? (at, id) : nil
    }
}
