import AftercarePersistence
import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// The service catalog HQ keeps: every type, read by key, replaced whole.
struct Catalog: Sendable {
    let database: PostgresClient
    let clock: any BusinessClock
    let logger: Logger

    struct Listing: ResponseCodable, Sendable {
        let serviceTypes: [ServiceType]
    }

    func all() async throws -> Listing {
        let rows = try await database.rows("SELECT definition::text FROM service_types ORDER BY key", logger: logger)
        return Listing(serviceTypes: try rows.map { try Self.decode(try $0.decode(String.self)) })
    }

    func type(_ key: String) async throws -> ServiceType {
        let rows = try await database.rows("SELECT definition::text FROM service_types WHERE key = \(key)", logger: logger)
        guard let row = rows.first else { throw ProblemDetails.notFound("No such service type.") }
        return try Self.decode(try row.decode(String.self))
    }

    /// A type a request names: a 422 naming `field` when there is none.
    func type(_ key: String, field: String) async throws -> ServiceType {
        let rows = try await database.rows("SELECT definition::text FROM service_types WHERE key = \(key)", logger: logger)
        guard let row = rows.first else { throw ProblemDetails.validation(field: field, "is not a service type of the catalog") }
        return try Self.decode(try row.decode(String.self))
    }

    static func type(_ key: String, on connection: PostgresConnection, logger: Logger) async throws -> ServiceType? {
        let rows = try await connection.query("SELECT definition::text FROM service_types WHERE key = \(key)", logger: logger)
        return try await rows.collect().first.map { try decode(try $0.decode(String.self)) }
    }

    /// Adds or replaces the type `key`; answers whether it was new.
    func put(_ key: String, _ definition: ServiceTypeDefinition, by caller: Principal) async throws -> (ServiceType, created: Bool) {
        let type = definition.serviceType(key: key)
        let json = String(decoding: try JSONEncoder().encode(type), as: UTF8.self)
        let rows = try await database.rows(
            """
            INSERT INTO service_types AS s (key, definition, updated_at, updated_by)
            VALUES (\(key), \(json)::jsonb, \(clock.now()), \(caller.subject))
            ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at, updated_by = excluded.updated_by
            RETURNING (xmax = 0)
            """,
            logger: logger
        )
        return (type, try rows.first?.decode(Bool.self) ?? false)
    }

    static func decode(_ json: String) throws -> ServiceType {
        try JSONDecoder().decode(ServiceType.self, from: Data(json.utf8))
    }
}

/// A service type as HQ writes it (the key is in the path).
struct ServiceTypeDefinition: ValidatedRequest, Sendable {
    struct Step: Codable, Sendable {
        let title: String
        let required: Bool?
        let needsNote: Bool?
        let needsPhoto: Bool?
    }

    let name: String
    let durationMinutes: Int
    let crewSize: Int
    let steps: [Step]
    let categories: [String]
    let intervalDays: Int?

    func validate() -> [FieldProblem] {
        var problems = validateName(name, field: "name")
        if !(15...720).contains(durationMinutes) { problems.append(.init(field: "durationMinutes", message: "must be 15 to 720")) }
        if !(1...2).contains(crewSize) { problems.append(.init(field: "crewSize", message: "must be 1 or 2")) }
        if steps.isEmpty || steps.count > 50 { problems.append(.init(field: "steps", message: "must hold 1 to 50 steps")) }
        for (index, step) in steps.enumerated() where step.title.allSatisfy(\.isWhitespace) || step.title.count > 200 {
            problems.append(.init(field: "steps[\(index)].title", message: "must be 1 to 200 characters"))
        }
        if categories.isEmpty || categories.count > 20 { problems.append(.init(field: "categories", message: "must name 1 to 20 categories")) }
        for (index, category) in categories.enumerated() { problems += validateCode(category, field: "categories[\(index)]") }
        if let intervalDays, !(1...3650).contains(intervalDays) { problems.append(.init(field: "intervalDays", message: "must be 1 to 3650")) }
        return problems
    }

    func serviceType(key: String) -> ServiceType {
        ServiceType(
            key: key,
            name: name,
            durationMinutes: durationMinutes,
            crewSize: crewSize,
            steps: steps.map { .init($0.title, required: $0.required ?? true, needsNote: $0.needsNote ?? false, needsPhoto: $0.needsPhoto ?? false) },
            categories: categories,
            intervalDays: intervalDays
        )
    }
}
