import type { Prompter } from '../../src/cli/prompter.js';

/** One question a scripted prompter was asked, with the options the caller passed. */
export interface AskedQuestion {
  kind: 'confirm' | 'input';
  message: string;
  options: { default?: boolean | string; required?: boolean } | undefined;
  /** What the script answered (undefined when the question was not scripted). */
  answer: string | boolean | undefined;
}

export interface ScriptedPrompter extends Prompter {
  /** Every question asked, in order, including the ones past the end of the script. */
  readonly asked: AskedQuestion[];
  /** The messages alone, for `expect(p.questions).toEqual([...])`. */
  readonly questions: string[];
  /** Answers not used yet. */
  readonly remaining: Array<string | boolean>;
  /** Problems met (an extra question, a wrong answer type): they are thrown too, but the runbook may catch them. */
  readonly problems: string[];
  /** Throws unless every scripted answer was used and nothing went wrong. */
  assertDone(): void;
}

export class ScriptedPrompterError extends Error {
  override name = 'ScriptedPrompterError';
}

/**
 * A Prompter that answers from a script, in order: a boolean answers a `confirm`, a string an
 * `input`. It records every question; a question past the end of the script, or an answer of
 * the wrong type, throws a ScriptedPrompterError naming the question and what was asked so far.
 * (The executor turns an error inside an item into a failed item, so check `problems` or call
 * `assertDone()` as well as asserting the questions.)
 */
export function scriptedPrompter(answers: Array<string | boolean>): ScriptedPrompter {
  const script = [...answers];
  const asked: AskedQuestion[] = [];
  const problems: string[] = [];

  const fail = (text: string): never => {
    const message = `scriptedPrompter: ${text}\nQuestions asked so far:\n${asked.map((q, i) => `  ${i + 1}. [${q.kind}] ${JSON.stringify(q.message)}`).join('\n')}`;
    problems.push(message);
    throw new ScriptedPrompterError(message);
  };

  function next(kind: AskedQuestion['kind'], message: string, options: AskedQuestion['options']): string | boolean {
    const question: AskedQuestion = { kind, message, options: options ? { ...options } : undefined, answer: undefined };
    asked.push(question);
    if (script.length === 0) fail(`question #${asked.length} (${kind} ${JSON.stringify(message)}) was not scripted: only ${answers.length} answer(s) were given.`);
    const answer = script.shift()!;
    const want = kind === 'confirm' ? 'boolean' : 'string';
    if (typeof answer !== want) fail(`question #${asked.length} (${kind} ${JSON.stringify(message)}) needs a ${want} answer; the script has ${JSON.stringify(answer)}.`);
    question.answer = answer;
    return answer;
  }

  return {
    asked,
    get questions() {
      return asked.map((q) => q.message);
    },
    get remaining() {
      return [...script];
    },
    problems,
    async confirm(message, options) {
      return next('confirm', message, options) as boolean;
    },
    async input(message, options) {
      return next('input', message, options) as string;
    },
    assertDone() {
      if (problems.length > 0) throw new ScriptedPrompterError(problems.join('\n\n'));
      if (script.length > 0) throw new ScriptedPrompterError(`scriptedPrompter: ${script.length} scripted answer(s) were never asked for: ${JSON.stringify(script)}. Questions asked:\n${asked.map((q, i) => `  ${i + 1}. [${q.kind}] ${JSON.stringify(q.message)}`).join('\n')}`);
    },
  };
}
