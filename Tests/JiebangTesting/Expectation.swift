/// Waits for a condition with a deadline, checking again whenever `poll` passes; never a fixed sleep.
///
/// - Returns: true when `condition` held before `timeout`.
public func eventually(
    timeout: Duration = .seconds(10), poll: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: poll)
    }
    return try await condition()
}
