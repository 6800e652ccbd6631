package model_test

import "time"

var testTime = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
