import Hummingbird

extension AppRequestContext {
    /// A positive integer path parameter.
    /// - Throws: a 400 problem naming the parameter.
    func id(_ name: String = "id") throws -> Int {
        let text = parameters.get(name) ?? ""
        guard let id = Int(text), id > 0 else {
            throw Problem(
                status: .badRequest, title: "Invalid path parameter", detail: "\(name) must be a positive whole number.",
                errors: [.init(field: name, message: "\(text) is not a positive whole number")])
        }
        return id
    }
}
