import Foundation
import Hummingbird

/// A kind of home visit the brand offers: how long it takes, how many technicians it needs
/// together, the checklist they work through, which products it serves, and for a recurring
/// service how often it is due.
struct ServiceType: ResponseCodable, Sendable, Equatable {
    struct Step: Codable, Sendable, Equatable {
        let title: String
        let required: Bool
        let needsNote: Bool
        let needsPhoto: Bool

        init(_ title: String, required: Bool = true, needsNote: Bool = false, needsPhoto: Bool = false) {
            self.title = title
            self.required = required
            self.needsNote = needsNote
            self.needsPhoto = needsPhoto
        }
    }

    let key: String
    let name: String
    let durationMinutes: Int
    /// 1 or 2: a crew of two is offered seat by seat and dispatched when both accept.
    let crewSize: Int
    let steps: [Step]
    /// Product categories (of purchases) the service is for.
    let categories: [String]
    /// For a recurring service, the days between visits (mite removal: yearly).
    let intervalDays: Int?
}

extension ServiceType {
    /// What HQ starts with; each can be changed.
    static let defaults: [ServiceType] = [miteRemoval, installation, repair, inspection]

    /// The brand's yearly free mattress mite removal: 16 standard steps, always two
    /// technicians together.
    static let miteRemoval = ServiceType(
        key: "mite_removal",
        name: "Mattress mite removal",
        durationMinutes: 120,
        crewSize: 2,
        steps: [
            Step("Confirm the visit and the mattress with the member"),
            Step("Photograph the mattress before the work", needsPhoto: true),
            Step("Check the mattress label and warranty card", needsNote: true),
            Step("Remove and bag the bedding"),
            Step("Inspect the surface for stains and damage", needsNote: true),
            Step("Vacuum the top surface with the HEPA unit"),
            Step("Vacuum the sides and edges"),
            Step("Turn the mattress"),
            Step("Vacuum the underside"),
            Step("Treat with UV light, top"),
            Step("Treat with UV light, underside"),
            Step("Apply the anti-mite treatment"),
            Step("Air the mattress for the treatment time"),
            Step("Vacuum the bed frame and slats"),
            Step("Photograph the mattress after the work", needsPhoto: true),
            Step("Explain the care advice and record the member's questions", required: false, needsNote: true),
        ],
        categories: ["mattress"],
        intervalDays: 365
    )

    static let installation = ServiceType(
        key: "installation",
        name: "Installation",
        durationMinutes: 90,
        crewSize: 2,
        steps: [
            Step("Check the delivered items against the order", needsNote: true),
            Step("Assemble and install"),
            Step("Test with the member"),
            Step("Photograph the installed product", needsPhoto: true),
            Step("Remove the packaging", required: false),
        ],
        categories: ["mattress", "bed", "sofa", "appliance"],
        intervalDays: nil
    )

    static let repair = ServiceType(
        key: "repair",
        name: "Repair",
        durationMinutes: 60,
        crewSize: 1,
        steps: [
            Step("Diagnose the fault", needsNote: true),
            Step("Photograph the fault", needsPhoto: true),
            Step("Repair or replace the part", needsNote: true),
            Step("Test with the member"),
        ],
        categories: ["mattress", "bed", "sofa", "appliance"],
        intervalDays: nil
    )

    static let inspection = ServiceType(
        key: "inspection",
        name: "Inspection",
        durationMinutes: 45,
        crewSize: 1,
        steps: [
            Step("Inspect the product", needsNote: true),
            Step("Photograph what was found", required: false, needsPhoto: true),
            Step("Advise the member", required: false, needsNote: true),
        ],
        categories: ["mattress", "bed", "sofa", "appliance"],
        intervalDays: nil
    )
}
