// The MQTT 3.1.1 codec: exact bytes of what Castor sends, and robust decoding of what arrives.
#include "ingest/mqtt_codec.hpp"

#include <gtest/gtest.h>

namespace castor::ingest::mqtt {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(MqttCodec, ConnectWithCredentialsAndPersistentSession) {
  std::string out;
  encode_connect(out, {"c1", "u", "p", 30, false});
  EXPECT_EQ(out, bytes({0x10, 20, 0, 4,   'M', 'Q', 'T', 'T', 4, 0xC0, 0,
                        30,   0,  2, 'c', '1', 0,   1,   'u', 0, 1,    'p'}));
  out.clear();
  encode_connect(out, {"c1", "", "", 60, true});
  EXPECT_EQ(out, bytes({0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 2, 'c', '1'}));
}

TEST(MqttCodec, SubscribePubackPingDisconnect) {
  std::string out;
  encode_subscribe(out, 7, {{"a/+", 1}, {"#", 0}});
  EXPECT_EQ(out, bytes({0x82, 12, 0, 7, 0, 3, 'a', '/', '+', 1, 0, 1, '#', 0}));
  out.clear();
  encode_puback(out, 0x1234);
  encode_pingreq(out);
  encode_disconnect(out);
  EXPECT_EQ(out, bytes({0x40, 2, 0x12, 0x34, 0xC0, 0, 0xE0, 0}));
}

TEST(MqttCodec, PublishRoundTripsAcrossRemainingLengthSizes) {
  for (std::size_t size : {0u, 100u, 200u, 20000u, 3000000u}) {
    std::string payload(size, 'x');
    std::string wire;
    encode_publish(wire, "plant/l1/r1", payload, 1, 42, true);
    auto frame = next_frame(wire, 4u << 20);
    ASSERT_TRUE(frame) << frame.status().message();
    ASSERT_TRUE(*frame);
    EXPECT_EQ((*frame)->size, wire.size());
    auto p = decode_publish(**frame);
    ASSERT_TRUE(p) << p.status().message();
    EXPECT_EQ(p->topic, "plant/l1/r1");
    EXPECT_EQ(p->payload.size(), size);
    EXPECT_EQ(p->qos, 1);
    EXPECT_EQ(p->packet_id, 42);
    EXPECT_TRUE(p->dup);
  }
}

TEST(MqttCodec, IncompletePacketsWaitForMoreBytes) {
  std::string wire;
  encode_publish(wire, "t", std::string(300, 'y'), 0, 0);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3},
                          std::size_t{100}, wire.size() - 1}) {
    auto frame = next_frame(std::string_view(wire).substr(0, cut), 1u << 20);
    ASSERT_TRUE(frame);
    EXPECT_FALSE(*frame) << "cut at " << cut;
  }
}

TEST(MqttCodec, TwoPacketsInOneBufferAreFoundInOrder) {
  std::string wire = bytes({0xD0, 0});  // PINGRESP
  encode_publish(wire, "a", "1", 0, 0);
  auto first = next_frame(wire, 1024);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->type, PacketType::pingresp);
  auto second = next_frame(std::string_view(wire).substr((*first)->size), 1024);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->type, PacketType::publish);
  EXPECT_EQ(decode_publish(**second)->payload, "1");
}

TEST(MqttCodec, MalformedInputIsAnError) {
  EXPECT_FALSE(next_frame(bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), 1u << 28));
  EXPECT_FALSE(next_frame(bytes({0x30, 0x80, 0x80, 0x01}), 1000));  // 16384 > limit
  EXPECT_FALSE(next_frame(bytes({0x00, 0x00}), 1000));              // reserved type 0
  const std::string qos3_body = bytes({0, 1, 'a', 0, 1});  // Frame::body is a view
  Frame qos3{PacketType::publish, 0x06, qos3_body, 7};
  EXPECT_FALSE(decode_publish(qos3));
  const std::string truncated_body = bytes({0, 5, 'a'});  // Frame::body is a view
  Frame truncated{PacketType::publish, 0x02, truncated_body, 5};
  EXPECT_FALSE(decode_publish(truncated));
  const std::string zero_id_body = bytes({0, 1, 'a', 0, 0});  // Frame::body is a view
  Frame zero_id{PacketType::publish, 0x02, zero_id_body, 7};
  EXPECT_FALSE(decode_publish(zero_id));
}

TEST(MqttCodec, ConnackAndSuback) {
  auto ack = decode_connack({PacketType::connack, 0, bytes({1, 0}), 4});
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->session_present);
  EXPECT_EQ(ack->return_code, 0);
  EXPECT_EQ(decode_connack({PacketType::connack, 0, bytes({0, 5}), 4})->return_code, 5);
  EXPECT_NE(connack_reason(4).find("user name or password"), std::string::npos);
  auto sub = decode_suback({PacketType::suback, 0, bytes({0, 9, 1, 0x80}), 6});
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->packet_id, 9);
  EXPECT_EQ(sub->granted, (std::vector<std::uint8_t>{1, 0x80}));
}

TEST(MqttCodec, Mqtt5ConnectSubscribeAndPropertiesAreSkipped) {
  std::string out;
  ConnectOptions o{"c1", "", "", 30, false};
  o.version = 5;
  o.session_expiry_s = 0xFFFFFFFF;
  o.receive_maximum = 1000;
  encode_connect(out, o);
  EXPECT_EQ(out, bytes({0x10, 23,   0,    4,    'M',  'Q',  'T',  'T',  5, 0, 0,   30, 8,
                        0x11, 0xFF, 0xFF, 0xFF, 0xFF, 0x21, 0x03, 0xE8, 0, 2, 'c', '1'}));
  out.clear();
  encode_subscribe(out, 7, {{"a", 1}}, 5);
  EXPECT_EQ(out, bytes({0x82, 7, 0, 7, 0, 0, 1, 'a', 1}));
  // PUBLISH QoS 1 with a content-type property, then the payload.
  const std::string pub_body = bytes({0, 1, 't', 0, 9, 5, 0x03, 0, 2, 'j', 's', '{', '}'});
  Frame pub{PacketType::publish, 0x02, pub_body, 15};
  auto p = decode_publish(pub, 5);
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->packet_id, 9);
  EXPECT_EQ(p->payload, "{}");
  const std::string bad_body = bytes({0, 1, 't', 0, 9, 9, 0x03});  // Frame::body is a view
  Frame bad{PacketType::publish, 0x02, bad_body, 9};
  EXPECT_FALSE(decode_publish(bad, 5));
  auto sub = decode_suback({PacketType::suback, 0, bytes({0, 7, 0, 0x01, 0x87}), 7}, 5);
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->granted, (std::vector<std::uint8_t>{1, 0x87}));
  auto ack = decode_connack({PacketType::connack, 0, bytes({0, 0x86, 0}), 5}, 5);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->return_code, 0x86);
  EXPECT_NE(connack_reason(0x86).find("user name or password"), std::string::npos);
}

TEST(MqttCodec, TopicFilters) {
  EXPECT_TRUE(valid_topic_filter("plant/+/+/telemetry"));
  EXPECT_TRUE(valid_topic_filter("plant/#"));
  EXPECT_TRUE(valid_topic_filter("#"));
  EXPECT_FALSE(valid_topic_filter("plant/#/x"));
  EXPECT_FALSE(valid_topic_filter("plant/a+"));
  EXPECT_FALSE(valid_topic_filter(""));
}

}  // namespace
}  // namespace castor::ingest::mqtt
