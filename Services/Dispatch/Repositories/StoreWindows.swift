import AftercareRuntime
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// A store's own bookable windows, kept beside what membership tells of the store.
struct StoreWindows: Sendable {
    let database: PostgresClient
    let settings: DispatchSettings
    let logger: Logger

    struct View: ResponseCodable, Sendable, Equatable {
        let storeId: String
        let windows: [String]
        /// False while the store uses the service's default windows.
        let own: Bool
    }

    struct Request: ValidatedRequest, Sendable {
        let windows: [String]

        var parsed: [SlotWindow]? { windows.count <= 12 ? SlotWindow.list(windows.joined(separator: ",")) : nil }

        func validate() -> [FieldProblem] {
            parsed == nil ? [.init(field: "windows", message: "must be 1 to 12 windows like 09:00-12:00 that do not overlap")] : []
        }
    }

    func show(_ storeId: String, by caller: Principal) async throws -> View {
        try await database.transaction(logger: logger) { connection in
            guard let store = try await StoreInfo.load(storeId, settings: settings, on: connection, logger: logger), Self.covers(caller, store)
            else { throw ProblemDetails.notFound("No such store.") }
            let own = try await connection.query("SELECT slot_windows IS NOT NULL FROM stores WHERE store_id = \(storeId)", logger: logger)
            return View(storeId: storeId, windows: store.windows.map(\.description), own: try await own.collect().first?.decode(Bool.self) ?? false)
        }
    }

    func set(_ storeId: String, _ request: Request, by caller: Principal) async throws -> View {
        let windows = request.parsed ?? []
        let json = String(decoding: try JSONEncoder().encode(windows), as: UTF8.self)
        try await database.transaction(logger: logger) { connection in
            guard let store = try await StoreInfo.load(storeId, settings: settings, on: connection, logger: logger), Self.covers(caller, store)
            else { throw ProblemDetails.notFound("No such store.") }
            try await connection.query("UPDATE stores SET slot_windows = \(json)::jsonb WHERE store_id = \(storeId)", logger: logger)
        }
        return View(storeId: storeId, windows: windows.map(\.description), own: true)
    }

    static func covers(_ caller: Principal, _ store: StoreInfo) -> Bool {
        switch caller.role {
        case .hqAdmin: true
        case .dealerAdmin: caller.dealerID == store.dealerId
        case .storeManager, .guide: caller.storeID == store.storeId
        default: false
        }
    }
}
