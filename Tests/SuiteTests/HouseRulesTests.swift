import Foundation
import Testing

/// Rules of the house that reading the repository can check: every test suite has a time
/// limit (a hung test fails, named, instead of holding the run), the documents' links lead
/// somewhere, and no controller runs SQL of its own.
@Suite("House rules", .timeLimit(.minutes(1)))
struct HouseRulesTests {
    let files = ContainerFilesTests()

    func swiftFiles(in folder: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: ContainerFilesTests.root.appendingPathComponent(folder).path)
            .filter { $0.hasSuffix(".swift") }
            .map { "\(folder)/\($0)" }
    }

    @Test("every test suite has a time limit, unless it only groups suites that have one")
    func suitesHaveTimeLimits() throws {
        var unlimited: [String] = []
        for path in try swiftFiles(in: "Tests") {
            let lines = try files.read(path).components(separatedBy: "\n")
            for (index, line) in lines.enumerated() where line.trimmingCharacters(in: .whitespaces).hasPrefix("@Suite(") {
                let next = index + 1 < lines.count ? lines[index + 1] : ""
                let groupsOnly = next.contains("{}")
                if !line.contains(".timeLimit(") && !groupsOnly { unlimited.append("\(path):\(index + 1)") }
            }
        }
        #expect(unlimited.isEmpty, "suites without a time limit: \(unlimited)")
    }

    @Test("every relative link in the README and docs/ names a file that exists")
    func linksResolve() throws {
        let documents =
            ["README.md"]
            + (try FileManager.default.contentsOfDirectory(atPath: ContainerFilesTests.root.appendingPathComponent("docs").path))
            .filter { $0.hasSuffix(".md") }.map { "docs/\($0)" }
        #expect(documents.count >= 5)
        var broken: [String] = []
        for document in documents {
            let folder = (document as NSString).deletingLastPathComponent
            for target in try files.matches(#"\]\(([^)#:]+)(?:#[^)]*)?\)"#, in: try files.read(document)) {
                let path = folder.isEmpty ? target : "\(folder)/\(target)"
                let resolved = ContainerFilesTests.root.appendingPathComponent(path).standardizedFileURL.path
                if !FileManager.default.fileExists(atPath: resolved) { broken.append("\(document) → \(target)") }
            }
        }
        #expect(broken.isEmpty, "links to nothing: \(broken)")
    }

    @Test("controllers hold routes and handlers; SQL lives in repositories and domain types")
    func noSQLInControllers() throws {
        let controllers = try ["Services/Membership", "Services/Feedback", "Services/Notification"]
            .flatMap { try swiftFiles(in: "\($0)/Controllers") }
        #expect(controllers.count >= 10)
        let sql = try NSRegularExpression(pattern: #"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b"#)
        var offenders: [String] = []
        for path in controllers {
            let text = try files.read(path)
            if sql.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil { offenders.append(path) }
        }
        #expect(offenders.isEmpty, "controllers with SQL: \(offenders)")
    }
}
