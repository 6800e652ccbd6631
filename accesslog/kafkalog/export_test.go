package kafkalog

import (
	"github.com/apigw/apigw/accesslog"
	"github.com/apigw/apigw/model"
	apigwv1 "github.com/apigw/apigw/proto/apigw/v1"
)

// RenderFunc renders records as a plug-in would write them (tests).
func RenderFunc(pl *apigwv1.Plugin, out func([]byte)) func(*accesslog.Record) {
	l := newLayout(model.KafkaLogContent(pl).GetMetaConfig())
	return func(r *accesslog.Record) { out(l.render(r, nil)) }
}
