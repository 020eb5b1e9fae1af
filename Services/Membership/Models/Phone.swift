/// A phone number in E.164 form (`+8613812345678`), the member's natural key. Mainland
/// numbers may be written with or without `+86`/`0086`, with spaces or dashes.
struct Phone: Hashable, Sendable, CustomStringConvertible {
    let e164: String

    init?(_ raw: String) {
        var digits = raw.filter { !" -()".contains($0) }
        if digits.hasPrefix("00") { digits = "+" + digits.dropFirst(2) }
        let international = digits.hasPrefix("+")
        if international { digits.removeFirst() }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        if !international, digits.count == 11, digits.hasPrefix("1") { digits = "86" + digits }
        if digits.hasPrefix("86") {
            // Mainland mobile numbers: 11 digits, 1[3-9]xxxxxxxxx.
            let national = digits.dropFirst(2)
            guard national.count == 11, national.first == "1", let second = national.dropFirst().first, "3456789".contains(second) else { return nil }
        } else {
            guard international, (8...15).contains(digits.count) else { return nil }
        }
        e164 = "+" + digits
    }

    /// For roles that do not call members: keeps the country code, the first three and the
    /// last four digits of the national number.
    var masked: String { Self.mask(e164) }

    static func mask(_ e164: String) -> String {
        let national = e164.hasPrefix("+86") ? String(e164.dropFirst(3)) : String(e164.dropFirst())
        guard national.count > 7 else { return String(repeating: "*", count: national.count) }
        return (e164.hasPrefix("+86") ? "+86" : "+") + national.prefix(3) + String(repeating: "*", count: national.count - 7) + national.suffix(4)
    }

    var description: String { masked }
}
