import Foundation

extension TimeZone {
    /// The time zone a name from outside (a request, an event, a stored row, the environment)
    /// stands for, or nil: an IANA name (`Asia/Shanghai`), or `UTC`. Nothing else reaches
    /// Foundation's `TimeZone(identifier:)`, which traps on some malformed offset names
    /// (`GMT+01:!0`), and offset names that Foundation reads (`GMT+8`) PostgreSQL's
    /// `AT TIME ZONE` reads the other way round or not at all.
    public init?(checking name: String) {
        guard name == "UTC" || Self.ianaNames.contains(name) else { return nil }
        self.init(identifier: name)
    }

    private static let ianaNames = Set(TimeZone.knownTimeZoneIdentifiers)
}
