import Foundation

extension TimeZone {
    /// The time zone a name from outside (a request, an event, a stored row, the environment)
    /// stands for, or nil. Foundation's `TimeZone(identifier:)` traps on some malformed
    /// offset names (`GMT+01:!0`: a minute that is not a digit), so a name starting with
    /// GMT or UTC must be exactly an offset Foundation reads (`GMT`, `GMT+8`, `UTC-0530`,
    /// `GMT+05:30`) before Foundation sees it.
    public init?(checking name: String) {
        guard !name.isEmpty, name.utf8.count <= 64 else { return nil }
        if name.hasPrefix("GMT") || name.hasPrefix("UTC"), !Self.isOffsetName(name) { return nil }
        self.init(identifier: name)
    }

    /// `GMT` or `UTC`, then nothing, or a sign and `H`, `HH`, `HHMM`, `H:MM` or `HH:MM` (or
    /// with `.` for `:`): digits wherever Foundation reads one.
    static func isOffsetName(_ name: String) -> Bool {
        let rest = Array(name.utf8.dropFirst(3))
        guard let sign = rest.first else { return true }
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return false }
        let body = Array(rest.dropFirst())
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if [1, 2, 4].contains(body.count), body.allSatisfy(isDigit) { return true }
        guard [4, 5].contains(body.count) else { return false }
        let separator = body.count - 3
        guard body[separator] == UInt8(ascii: ":") || body[separator] == UInt8(ascii: ".") else { return false }
        return body.enumerated().allSatisfy { $0.offset == separator || isDigit($0.element) }
    }
}
