// Inside a guest: prints one line with the run's counts and failed test names,
// "tw-kt-result <base64 JSON>", on the console. run.js reads it from there
// (the guest's files vanish with it). Base64 keeps it one clean line.
class GuestReporter {
  onRunComplete(_contexts, results) {
    const failures = [];
    for (const file of results.testResults) {
      if (file.testExecError) failures.push(`${file.testFilePath}: ${file.testExecError.message}`);
      for (const t of file.testResults) {
        if (t.status === 'failed') failures.push(t.fullName);
      }
    }
    const summary = {
      step: process.env.TW_KT_STEP ?? 'tests',
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      failures: failures.map((f) => f.split('\n')[0].slice(0, 300)),
    };
    const line = Buffer.from(JSON.stringify(summary)).toString('base64');
    process.stdout.write(`\ntw-kt-result ${line}\n`);
  }
}

module.exports = GuestReporter;
