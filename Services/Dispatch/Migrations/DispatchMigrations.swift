import AftercareMessaging
import AftercarePersistence
import Foundation

/// The dispatch database: the platform's messaging and timer tables, then the service's own.
enum DispatchMigrations {
    static let all: [Migration] = PlatformSchema.migrations + [catalog]

    /// The service catalog, seeded with the brand's defaults (HQ changes them through the
    /// API; a later change of the defaults themselves is a migration of its own).
    static let catalog = Migration(
        "dispatch-001-catalog",
        """
        CREATE TABLE service_types (
            key text PRIMARY KEY,
            definition jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text
        )
        """,
        seed(ServiceType.defaults)
    )

    static func seed(_ types: [ServiceType]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let rows = types.map { type in
            let json = String(decoding: (try? encoder.encode(type)) ?? Data("{}".utf8), as: UTF8.self)
            return "('\(type.key)', $catalog$\(json)$catalog$::jsonb)"
        }
        return "INSERT INTO service_types (key, definition) VALUES " + rows.joined(separator: ", ")
    }
}
