import AftercarePersistence
import AftercareRuntime
import Foundation
import PostgresNIO

/// What every service's test fixture starts from: a throw-away database with a running
/// client, a configuration that names the service for this test alone (so its queues are its
/// own), a business clock moved by hand, the token authority, and a prefix for the test's ids
/// (every test's queue sees every test's events). A consuming service's queues are deleted
/// afterwards, also when the test fails, so none is left to collect every later event.
public struct ServiceTestBed: Sendable {
    public let configuration: ServiceConfiguration
    public let clock: ManualBusinessClock
    public let database: PostgresClient
    public let databaseName: String
    public let tokens: TokenAuthority
    public let prefix: String

    public static func with(
        service: String,
        startingAt start: Date,
        consumesEvents: Bool,
        _ body: @escaping @Sendable (ServiceTestBed) async throws -> Void
    ) async throws {
        try await TestDatabase.with { database in
            let prefix = String(UUID().uuidString.lowercased().prefix(6)) + "-"
            let configuration = try TestEnvironment.configuration(
                service: ServiceIdentity(name: "\(service)-\(prefix.dropLast())", defaultHTTPPort: 0),
                databaseURL: database.url
            )
            try await withRunningClient(try makeClient(url: database.url)) { client in
                let bed = ServiceTestBed(
                    configuration: configuration,
                    clock: ManualBusinessClock(start),
                    database: client,
                    databaseName: database.name,
                    tokens: await TokenAuthority(settings: configuration.jwt),
                    prefix: prefix
                )
                let outcome: Result<Void, any Error>
                do {
                    try await body(bed)
                    outcome = .success(())
                } catch {
                    outcome = .failure(error)
                }
                if consumesEvents { await deleteServiceQueues(of: [configuration.service.name], broker: configuration.broker) }
                try outcome.get()
            }
        }
    }
}

extension ServiceTestBed {
    /// The one number a counting query answers (-1 when it answers nothing).
    public func count(_ sql: String) async throws -> Int {
        try await database.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger).collect().first?.decode(Int.self) ?? -1
    }

    /// Events of one type in the outbox: what the service published.
    public func published(_ type: String) async throws -> Int {
        try await count("SELECT count(*) FROM outbox WHERE event_type = '\(type)'")
    }
}
