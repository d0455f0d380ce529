// The NEWS_SENTIMENT fixture the fake Alpha Vantage serves for tickers=ACME, shaped exactly
// like the real API (REFERENCE.md §5): `items` is a string, `overall_sentiment_score` a
// number, per-ticker scores and relevance are decimal strings.
//
// ACME is mentioned by two articles: relevance 0.912034 / score 0.341200 (2025-03-14) and
// relevance 0.500000 / score 0.100000 (2025-03-13). A third article mentions only OTHR.
// Expected warden output (relevance-weighted mean, 6 decimals): see EXPECTED_ACME.

export const SENTIMENT_DEFINITION = 'x <= -0.35: Bearish; -0.35 < x <= -0.15: Somewhat-Bearish; '
  + '-0.15 < x < 0.15: Neutral; 0.15 <= x < 0.35: Somewhat_Bullish; x >= 0.35: Bullish';
export const RELEVANCE_DEFINITION = '0 < x <= 1, with a higher score indicating higher relevance.';

export const NEWS_SENTIMENT_ACME = {
  items: '3',
  sentiment_score_definition: SENTIMENT_DEFINITION,
  relevance_score_definition: RELEVANCE_DEFINITION,
  feed: [
    {
      title: 'Acme lifts full-year guidance',
      url: 'https://news.example.com/acme',
      time_published: '20250314T153000',
      authors: ['Jane Doe'],
      summary: 'Acme raised its outlook after a strong quarter.',
      banner_image: null,
      source: 'Example Wire',
      category_within_source: 'n/a',
      source_domain: 'news.example.com',
      topics: [{ topic: 'Earnings', relevance_score: '0.999999' }],
      overall_sentiment_score: 0.287114,
      overall_sentiment_label: 'Somewhat-Bullish',
      ticker_sentiment: [
        { ticker: 'ACME', relevance_score: '0.912034', ticker_sentiment_score: '0.341200', ticker_sentiment_label: 'Somewhat-Bullish' },
      ],
    },
    {
      title: 'Suppliers weigh on Acme margins',
      url: 'https://news.example.com/acme-suppliers',
      time_published: '20250313T090000',
      authors: [],
      summary: 'Input costs rose for Acme and peers.',
      banner_image: null,
      source: 'Example Daily',
      category_within_source: 'Markets',
      source_domain: 'daily.example.com',
      topics: [{ topic: 'Manufacturing', relevance_score: '0.5' }],
      overall_sentiment_score: 0.05,
      overall_sentiment_label: 'Neutral',
      ticker_sentiment: [
        { ticker: 'OTHR', relevance_score: '0.700000', ticker_sentiment_score: '-0.400000', ticker_sentiment_label: 'Bearish' },
        { ticker: 'ACME', relevance_score: '0.500000', ticker_sentiment_score: '0.100000', ticker_sentiment_label: 'Neutral' },
      ],
    },
    {
      title: 'Othr misses estimates',
      url: 'https://news.example.com/othr',
      time_published: '20250312T120000',
      authors: ['John Roe'],
      summary: 'Othr reported lower revenue.',
      banner_image: null,
      source: 'Example Wire',
      category_within_source: 'n/a',
      source_domain: 'news.example.com',
      topics: [{ topic: 'Earnings', relevance_score: '0.9' }],
      overall_sentiment_score: -0.41,
      overall_sentiment_label: 'Bearish',
      ticker_sentiment: [
        { ticker: 'OTHR', relevance_score: '0.950000', ticker_sentiment_score: '-0.500000', ticker_sentiment_label: 'Bearish' },
      ],
    },
  ],
};

// (0.912034 × 0.3412 + 0.5 × 0.1) / (0.912034 + 0.5) = 0.361186… / 1.412034 = 0.255791…
export const EXPECTED_ACME = {
  ticker: 'ACME',
  sentiment_score: 0.255791,
  sentiment_label: 'Somewhat-Bullish',
  articles_analyzed: 2,
  top_titles: ['Acme lifts full-year guidance', 'Suppliers weigh on Acme margins'],
};
