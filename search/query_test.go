package search_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

func TestParseQueryBadParameters(t *testing.T) {
	long := make([]byte, search.MaxTextBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	cases := []struct {
		query string
		field string
	}{
		{"q=" + string(long), "q"},
		{"near=52.5", "near"},
		{"near=52.5,", "near"},
		{"near=abc,13.4", "near"},
		{"near=91,13.4", "near"},
		{"near=52.5,181", "near"},
		{"near=NaN,1", "near"},
		{"near=52.5,Inf", "near"},
		{"radius_km=10", "radius_km"},
		{"near=52.5,13.4&radius_km=0", "radius_km"},
		{"near=52.5,13.4&radius_km=-5", "radius_km"},
		{"near=52.5,13.4&radius_km=ten", "radius_km"},
		{"near=52.5,13.4&radius_km=NaN", "radius_km"},
		{"near=52.5,13.4&radius_km=30000", "radius_km"},
		{"from=yesterday", "from"},
		{"from=2027-13-01", "from"},
		{"from=2027-06-01T25:00:00Z", "from"},
		{"from=01/06/2027", "from"},
		{"to=2027-02-30", "to"},
		{"from=2027-06-02&to=2027-06-01", "to"},
		{"page=0", "page"},
		{"page=-1", "page"},
		{"page=two", "page"},
		{"page=99999999999999999999", "page"},
		{"page_size=0", "page_size"},
		{"page_size=101", "page_size"},
		{"page_size=1.5", "page_size"},
		{"sort=price", "sort"},
		{"sort=distance", "sort"},
		{"sort=distance&radius_km=5", "radius_km"},
		{"city=" + string(long), "city"},
		{"type=" + string(long), "type"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = search.ParseQuery(v)
			var e *boxoffice.Error
			if !errors.As(err, &e) || e.Code != boxoffice.EInvalid {
				t.Fatalf("err = %v, want invalid_argument", err)
			}
			if got := e.Details["field"]; got != tc.field {
				t.Errorf("details.field = %v, want %q (%s)", got, tc.field, e.Message)
			}
		})
	}
}

func TestParseQueryDefaultsAndForms(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }
	cases := []struct {
		query string
		want  search.Query
	}{
		{"", search.Query{Page: 1, PageSize: 20, Sort: search.SortDate}},
		{"q=+rock+&page=&city=", search.Query{Text: "rock", Page: 1, PageSize: 20, Sort: search.SortRelevance}},
		{"q=rock&sort=date", search.Query{Text: "rock", Page: 1, PageSize: 20, Sort: search.SortDate}},
		{"near=52.5,+13.4", search.Query{Near: &boxoffice.Location{Lat: 52.5, Lon: 13.4}, RadiusKm: 50, Page: 1, PageSize: 20, Sort: search.SortDate}},
		{"near=52.5,13.4&radius_km=2.5&sort=distance&page=3&page_size=100",
			search.Query{Near: &boxoffice.Location{Lat: 52.5, Lon: 13.4}, RadiusKm: 2.5, Page: 3, PageSize: 100, Sort: search.SortDistance}},
		{"from=2027-06-01&to=2027-06-30", search.Query{From: day("2027-06-01T00:00:00Z"), To: day("2027-06-30T23:59:59.999999999Z"), Page: 1, PageSize: 20, Sort: search.SortDate}},
		{"from=2027-06-01T20:00:00%2B02:00", search.Query{From: day("2027-06-01T18:00:00Z"), Page: 1, PageSize: 20, Sort: search.SortDate}},
		{"from=1000-01-01&to=9999-12-31", search.Query{From: day("1700-01-01T00:00:00Z"), To: day("2201-01-01T00:00:00Z"), Page: 1, PageSize: 20, Sort: search.SortDate}},
		{"type=Concert&city=  Berlin ", search.Query{Type: "Concert", City: "Berlin", Page: 1, PageSize: 20, Sort: search.SortDate}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			got, err := search.ParseQuery(v)
			if err != nil {
				t.Fatal(err)
			}
			if !equalQuery(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func equalQuery(a, b search.Query) bool {
	if (a.Near == nil) != (b.Near == nil) || (a.Near != nil && *a.Near != *b.Near) {
		return false
	}
	a.Near, b.Near = nil, nil
	return a.From.Equal(b.From) && a.To.Equal(b.To) && a.Text == b.Text && a.Type == b.Type &&
		a.City == b.City && a.RadiusKm == b.RadiusKm && a.Page == b.Page && a.PageSize == b.PageSize && a.Sort == b.Sort
}

func TestSearchRejectsBadGoQuery(t *testing.T) {
	ix := catalogIndex(t)
	cases := map[string]search.Query{
		"page":      {Page: -1},
		"page_size": {PageSize: 1000},
		"radius_km": {RadiusKm: 5},
		"sort":      {Sort: "cheapest"},
		"near":      {Near: &boxoffice.Location{Lat: 100}},
	}
	for field, q := range cases {
		_, err := ix.Search(t.Context(), q)
		var e *boxoffice.Error
		if !errors.As(err, &e) || e.Details["field"] != field {
			t.Errorf("%+v: err %v, want invalid_argument on %s", q, err, field)
		}
	}
	words := "a1 b2 c3 d4 e5 f6 g7 h8 i9 j10 k11 l12 m13"
	if _, err := ix.Search(t.Context(), search.Query{Text: words}); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Errorf("13 words: err %v, want invalid_argument", err)
	}
}
