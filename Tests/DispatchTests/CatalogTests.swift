import AftercareRuntime
import AftercareTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import DispatchService

/// The service catalog on a real database: the brand's defaults are there from the first
/// start, everyone who books or visits reads them, HQ alone adds or replaces a type, and a
/// bad definition is a 422 naming the field.
@Suite("The service catalog", .timeLimit(.minutes(3)))
struct CatalogTests {
    @Test("the defaults are served; HQ adds and replaces types; others are refused; bad definitions name the field")
    func catalog() async throws {
        try await ServiceTestBed.with(service: "dispatch", startingAt: Date(), consumesEvents: false) { bed in
            let (configuration, tokens) = (bed.configuration, bed.tokens)
            let hq = try await tokens.sign(subject: "hq-1", role: .hqAdmin)
            let technician = try await tokens.sign(subject: "t-1", role: .technician, dealerID: "d-1")
            let app = await buildApplication(configuration: configuration)
            try await app.test(.router) { client in
                try await waitReady("dispatch", client)
                let listing = try await client.execute(uri: "/api/v1/service-types", method: .get, headers: .bearer(technician)) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode(Catalog.Listing.self, from: Data(buffer: response.body))
                }
                #expect(listing.serviceTypes.map(\.key).sorted() == ServiceType.defaults.map(\.key).sorted())
                #expect(listing.serviceTypes.first { $0.key == "mite_removal" } == ServiceType.miteRemoval)

                let definition = #"""
                    {"name": "Sofa deep clean", "durationMinutes": 90, "crewSize": 1, "categories": ["sofa"], "intervalDays": 180,
                     "steps": [{"title": "Vacuum"}, {"title": "Steam", "needsPhoto": true}, {"title": "Advise", "required": false}]}
                    """#
                func put(_ key: String, _ body: String, token: String) async throws -> (HTTPResponse.Status, Data) {
                    try await client.execute(
                        uri: "/api/v1/service-types/\(key)",
                        method: .put,
                        headers: .bearer(token),
                        body: ByteBuffer(string: body)
                    ) {
                        ($0.status, Data(buffer: $0.body))
                    }
                }
                let added = try await put("sofa_clean", definition, token: hq)
                #expect(added.0 == .created)
                let sofa = try JSONDecoder().decode(ServiceType.self, from: added.1)
                #expect(sofa.steps.map(\.required) == [true, true, false] && sofa.steps[1].needsPhoto && sofa.intervalDays == 180)
                let replaced = try await put("sofa_clean", definition.replacingOccurrences(of: "\"crewSize\": 1", with: "\"crewSize\": 2"), token: hq)
                #expect(replaced.0 == .ok)
                let shown = try await client.execute(uri: "/api/v1/service-types/sofa_clean", method: .get, headers: .bearer(technician)) {
                    try JSONDecoder().decode(ServiceType.self, from: Data(buffer: $0.body))
                }
                #expect(shown.crewSize == 2)

                #expect(try await put("sofa_clean", definition, token: technician).0 == .forbidden)
                let missing = try await client.execute(uri: "/api/v1/service-types/no_such", method: .get, headers: .bearer(hq)) { $0.status }
                #expect(missing == .notFound)
                let bad: [(String, String)] = [
                    (definition.replacingOccurrences(of: "\"crewSize\": 1", with: "\"crewSize\": 3"), "crewSize"),
                    (
                        definition.replacingOccurrences(of: "\"durationMinutes\": 90", with: "\"durationMinutes\": 9223372036854775807"),
                        "durationMinutes"
                    ),
                    (definition.replacingOccurrences(of: "\"categories\": [\"sofa\"]", with: "\"categories\": []"), "categories"),
                    (definition.replacingOccurrences(of: "{\"title\": \"Vacuum\"}", with: "{\"title\": \"  \"}"), "steps[0].title"),
                    (definition.replacingOccurrences(of: "\"intervalDays\": 180", with: "\"intervalDays\": 0"), "intervalDays"),
                ]
                for (body, field) in bad {
                    let (status, data) = try await put("sofa_clean", body, token: hq)
                    let problem = try JSONDecoder().decode(ProblemBody.self, from: data)
                    #expect(
                        status == .unprocessableContent && problem.errors?.map(\.field).contains(field) == true,
                        "\(field): \(status) \(problem.errors ?? [])"
                    )
                }
            }
        }
    }
}
