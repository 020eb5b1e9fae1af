import PostgresNIO

/// Errors as an operator needs them in a log line or a header. PostgresNIO's `PSQLError`
/// prints only a generic sentence (to keep query data out of logs); the SQLSTATE and the
/// server's message say what happened without it.
public enum ErrorText {
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let state = error.serverInfo?[.sqlState] {
            return "database error \(state): \(error.serverInfo?[.message] ?? "")"
        }
        return "database error \(error.code)"
    }
}
