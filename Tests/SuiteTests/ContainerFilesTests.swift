import Foundation
import Testing

/// There is no container engine where the suite is developed, so these checks keep
/// `docker/` in step with the code by reading it: every folder the manifest needs is copied
/// into the image, every service the compose file builds is a product, and every variable
/// it sets is one the services read.
@Suite("Container files agree with the code", .timeLimit(.minutes(3)))
struct ContainerFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func read(_ path: String) throws -> String {
        try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    }

    func matches(_ pattern: String, in text: String) throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test("the image copies every top-level folder that holds a target")
    func dockerfileCopiesSources() throws {
        let manifest = try read("Package.swift")
        let dockerfile = try read("docker/Dockerfile")
        let roots = Set(try matches(#"path: "([A-Za-z]+)/"#, in: manifest)).union(["Services"])
        #expect(!roots.isEmpty)
        for root in roots {
            #expect(dockerfile.contains("COPY \(root) ./\(root)"), "docker/Dockerfile does not copy \(root)/")
        }
    }

    @Test("compose builds only real products and sets only variables the services read")
    func composeMatchesServices() throws {
        let compose = try read("docker/compose.yaml")
        let manifest = try read("Package.swift")
        let products = try matches(#"SERVICE: ([A-Za-z]+)"#, in: compose)
        #expect(Set(products) == ["MembershipService", "DispatchService", "CouponService", "NotificationService", "FeedbackService"])
        for product in products { #expect(manifest.contains(".executable(name: \"\(product)\"")) }

        // Variables under each service's `environment:` (the shared anchor included).
        let anchor = compose.components(separatedBy: "x-service-env:").dropFirst().first?.components(separatedBy: "\nservices:").first ?? ""
        let serviceSections = (compose.components(separatedBy: "\n  membership:").dropFirst().first ?? "") + anchor
        let variables = Set(try matches(#"\n\s+([A-Z][A-Z_]+): "#, in: serviceSections)).subtracting(["SERVICE"])
        let runtime = try sources(in: "Shared/Runtime") + sources(in: "Services")
        #expect(variables.count >= 8)
        let unread = variables.filter { !runtime.contains("\"\($0)\"") }
        #expect(unread.isEmpty, "compose sets variables no service reads: \(unread.sorted())")
    }

    @Test("the README documents every variable the services read")
    func readmeDocumentsConfiguration() throws {
        let readme = try read("README.md")
        let configuration = try read("Shared/Runtime/Configuration/ServiceConfiguration.swift")
        let services = try sources(in: "Services")
        let read = Set(try matches(#"env\.[a-z]+\("([A-Z_]+)""#, in: configuration) + matches(#"reader\.[a-z]+\("([A-Z_]+)""#, in: services))
        #expect(read.count >= 14)
        for variable in read { #expect(readme.contains("| `\(variable)` |"), "README lacks \(variable)") }
    }

    /// Every Swift source below a folder of the repository, concatenated.
    func sources(in folder: String) throws -> String {
        try FileManager.default.subpathsOfDirectory(atPath: Self.root.appendingPathComponent(folder).path)
            .filter { $0.hasSuffix(".swift") }
            .map { try read("\(folder)/\($0)") }
            .joined()
    }
}
