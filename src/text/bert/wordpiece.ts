/**
 * WordPiece (Schuster & Nakajima 2012, as used by BERT): greedy longest-match-first over a word's
 * characters, later pieces spelled with the continuation prefix "##". A word with any position that
 * no vocabulary entry covers, or longer than maxInputCharsPerWord, becomes a single [UNK]: HF does not
 * fall back to partial pieces.
 */

/** A piece of a word: its vocabulary token and the [from, to) range of the word's code points it covers. */
export interface WordPiece {
  token: string;
  from: number;
  to: number;
}

export class WordpieceTokenizer {
  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    readonly unkToken = '[UNK]',
    /** Counted in code points (Python's len(chars)), not UTF-16 units. */
    readonly maxInputCharsPerWord = 100,
    readonly continuingSubwordPrefix = '##',
  ) {}

  /** Splits one basic token, given as code points. */
  split(chars: readonly string[]): WordPiece[] {
    const n = chars.length;
    if (n > this.maxInputCharsPerWord) return [{ token: this.unkToken, from: 0, to: n }];
    const pieces: WordPiece[] = [];
    let start = 0;
    while (start < n) {
      let end = n;
      let found: string | null = null;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = this.continuingSubwordPrefix + sub;
        if (this.vocab.has(sub)) {
          found = sub;
          break;
        }
        end--;
      }
      if (found === null) return [{ token: this.unkToken, from: 0, to: n }];
      pieces.push({ token: found, from: start, to: end });
      start = end;
    }
    return pieces;
  }

  /** HF's WordpieceTokenizer.tokenize: whitespace-split text, then split each word. */
  tokenize(text: string): string[] {
    return text.split(/\s+/u).filter((w) => w.length > 0).flatMap((w) => this.split([...w]).map((p) => p.token));
  }
}
