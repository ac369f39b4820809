package stripepay_test

import (
	"os"
	"testing"

	"github.com/boxoffice/boxoffice/api/stripepay/stripetest"
)

// TestMain runs one stripe-mock for the package's tests.
func TestMain(m *testing.M) { os.Exit(stripetest.Main(m)) }
